/**
 * GET /sim/reports and its files (docs/experiments.md §8): the runs
 * `kscand-sim run` wrote under REPORTS_DIR, newest first, served read-only; names that are
 * not a run folder's, links and paths out of the folder answer 404 or 400.
 */
import { mkdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { parseScenario } from '../../src/experiments/load.ts'
import { runInto } from '../../src/experiments/run.ts'
import { SimRunner } from '../../src/host/runner.ts'
import { Kernel } from '../../src/kernel/kernel.ts'
import { appServer } from '../helpers/app.ts'
import { SMALL } from '../helpers/kernel.ts'
import { SMALL_PROCESS, tempDirs } from '../helpers/process.ts'

const dir = tempDirs()
let close: (() => Promise<void>) | null = null
afterEach(async () => {
  await close?.()
  close = null
})

async function serve(reportsDir?: string) {
  const kernel = new Kernel({ seed: 1, topology: SMALL })
  const runner = new SimRunner(kernel, { mode: 'paused' })
  const { server } = await appServer({ kernel, runner, reportsDir })
  await server.ready()
  close = async () => {
    runner.close()
    await server.close()
  }
  return server
}

const run = (out: string, name: string) =>
  runInto(
    parseScenario(
      JSON.stringify({
        name,
        machine: { topology: SMALL, processes: [SMALL_PROCESS] },
        duration_ms: 500,
      }),
      `${name}.json`,
    ),
    join(out, name),
  )

describe('GET /sim/reports', () => {
  it('lists the runs under REPORTS_DIR, newest first, and serves their files', async () => {
    const reports = dir()
    run(reports, 'older')
    run(reports, 'newer')
    writeFileSync(join(reports, 'newer', 'report.html'), '<!doctype html><p>report</p>\n')
    // A run folder without its report (an older kscand-sim wrote none).
    rmSync(join(reports, 'older', 'report.html'))
    utimesSync(join(reports, 'older', 'summary.json'), new Date(1e12), new Date(1e12))
    mkdirSync(join(reports, 'broken'))
    writeFileSync(join(reports, 'broken', 'summary.json'), '{not json')
    const outside = dir()
    run(outside, 'elsewhere')
    symlinkSync(join(outside, 'elsewhere'), join(reports, 'linked'))

    const server = await serve(reports)
    const list = await server.inject({ url: '/sim/reports' })
    expect(list.statusCode).toBe(200)
    expect(list.json()).toMatchObject({
      reports_dir_set: true,
      reports: [
        {
          name: 'newer',
          scenario: 'newer',
          seed: 42,
          ended: 'duration',
          virtual_ms: 500,
          files: ['summary.json', 'report.html'],
        },
        { name: 'older', files: ['summary.json'] },
      ],
    })
    expect(list.json().reports).toHaveLength(2)

    const summary = await server.inject({ url: '/sim/reports/newer/summary.json' })
    expect(summary.statusCode).toBe(200)
    expect(summary.json()).toMatchObject({ scenario: 'newer', virtual_ms: 500 })
    const html = await server.inject({ url: '/sim/reports/newer/report.html' })
    expect(html.statusCode).toBe(200)
    expect(html.headers['content-type']).toBe('text/html; charset=utf-8')
    expect(html.headers['content-security-policy']).toContain('sandbox allow-scripts')
    expect(html.body).toBe('<!doctype html><p>report</p>\n')
  })

  it('reaches nothing outside REPORTS_DIR', async () => {
    const reports = dir()
    run(reports, 'a')
    rmSync(join(reports, 'a', 'report.html'))
    const outside = dir()
    run(outside, 'elsewhere')
    symlinkSync(join(outside, 'elsewhere'), join(reports, 'linked'))
    const server = await serve(reports)
    for (const url of [
      '/sim/reports/older/report.html',
      '/sim/reports/a/report.html',
      '/sim/reports/linked/summary.json',
      '/sim/reports/..%2F..%2Fetc/summary.json',
      '/sim/reports/../a/summary.json',
      '/sim/reports/.a/summary.json',
      '/sim/reports/..%2Fa/summary.json',
    ]) {
      const res = await server.inject({ url })
      expect(res.statusCode, url).toBe(404)
    }
    expect((await server.inject({ url: '/sim/reports/a/series.csv' })).statusCode).toBe(400)
    expect((await server.inject({ url: '/sim/reports/a/summary.json' })).statusCode).toBe(200)
  })

  it('is empty without REPORTS_DIR', async () => {
    const server = await serve()
    expect((await server.inject({ url: '/sim/reports' })).json()).toEqual({
      reports_dir_set: false,
      reports: [],
    })
    expect((await server.inject({ url: '/sim/reports/a/summary.json' })).statusCode).toBe(404)
  })
})
