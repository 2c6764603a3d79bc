/**
 * report.html (src/experiments/report.ts): `kscand-sim run` writes it beside summary.json; it
 * names no URL (nothing for a browser to fetch: styles and scripts inlined), embeds the
 * scenario as it ran (it parses back to the same scenario), the summary and the tunables with
 * the ones the timeline changed marked, and is the same bytes for the same seed; its tables lay
 * several cells' summaries side by side. test/experiments/report-browser.test.ts opens it.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { runCommand } from '../../src/experiments/cli.ts'
import { loadScenario, parseScenario } from '../../src/experiments/load.ts'
import {
  chartData,
  chartSpecs,
  kthreadTable,
  REPORT_SERIES_ROWS,
  summaryTable,
} from '../../src/experiments/report.ts'
import type { Summary } from '../../src/experiments/summary.ts'
import { MiB } from '../../src/kernel/constants.ts'
import { SMALL } from '../helpers/kernel.ts'

/** Folders that outlive a test (the tests of one report share it), removed at the end. */
const made: string[] = []
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true })
})
const dir = () => {
  const d = mkdtempSync(join(tmpdir(), 'kscand-sim-report-'))
  made.push(d)
  return d
}

const SCENARIO = `# a comment the report need not keep
name: reported
description: a hot set on CXL <b>promoted</b>
machine:
  topology: ${JSON.stringify(SMALL)}
  processes:
    - comm: gups
      size: ${32 * MiB}
      policy: { mode: bind, nodes: [2] }
      workload: { pattern: hotset, hot_fraction: 0.25 }
timeline:
  - { at_ms: 2000, do: write, path: /sys/kernel/mm/kscand/scan_sleep_ms, value: 40 }
duration_ms: 6000
record: { series_interval_ms: 500 }
`

/** Runs SCENARIO with `kscand-sim run` into a fresh folder; returns the folder and stdout. */
async function run(): Promise<{ out: string; stdout: string }> {
  const cwd = dir()
  writeFileSync(join(cwd, 'reported.yaml'), SCENARIO)
  let stdout = ''
  let stderr = ''
  const code = await runCommand(['reported.yaml', '--out', 'out'], {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    cwd,
  })
  expect(code, stderr).toBe(0)
  return { out: join(cwd, 'out'), stdout }
}

/** The page's JSON block. */
const dataOf = (html: string) =>
  JSON.parse(
    html.slice(
      html.indexOf('<script type="application/json" id="report-data">') + 49,
      html.indexOf('</script>', html.indexOf('id="report-data"')),
    ),
  )

const fromHtml = (s: string) => s.replace(/&#(\d+);/g, (_, n) => String.fromCharCode(Number(n)))

const firstRun = await run()

describe('report.html', () => {
  const { out, stdout } = firstRun
  const html = readFileSync(join(out, 'report.html'), 'utf8')

  it('is written beside summary.json and named on stdout', () => {
    expect(stdout).toContain(
      'wrote out/summary.json\nwrote out/series.csv\nwrote out/report.html\n',
    )
    expect(html.startsWith('<!doctype html>')).toBe(true)
  })

  it('names no URL: nothing to fetch, styles and scripts inlined', () => {
    expect(html).not.toMatch(/https?:\/\//i)
    expect(html).not.toMatch(/<script[^>]*\ssrc=/i)
    expect(html).not.toMatch(/<link\b/i)
    expect(html).not.toMatch(/@import|url\(/i)
    expect(html).toContain('var uPlot=')
    expect(html).toContain('.uplot')
  })

  it('embeds the scenario as it ran, which parses back to the same scenario', () => {
    const pre = html.match(/<pre class="scenario">([\s\S]*?)<\/pre>/)
    expect(pre).not.toBeNull()
    const text = fromHtml(pre![1])
    expect(text).toContain('path: /sys/kernel/mm/kscand/scan_sleep_ms')
    expect(parseScenario(text, 'again.yaml')).toEqual(loadScenario(join(out, '../reported.yaml')))
    // The description is text, not markup.
    expect(html).toContain('a hot set on CXL &#60;b&#62;promoted&#60;/b&#62;')
  })

  it('has the summary, the tunables with the changed one marked, and the data of its charts', () => {
    const summary: Summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'))
    const gups = summary.processes[0]
    expect(html).toContain(`<th scope="col">gups <small>${gups.pid}</small></th>`)
    expect(html).toContain(`<td>${gups.promotions.toLocaleString('en-US')}</td>`)
    expect(html).toMatch(
      /<tr class="changed"><th scope="row"><code>\/sys\/kernel\/mm\/kscand\/scan_sleep_ms<\/code><\/th><td>20<\/td><td>40<\/td><\/tr>/,
    )
    expect(html.match(/<tr class="changed">/g)).toHaveLength(1)
    const data = dataOf(html)
    expect(data.charts.map((c: { id: string }) => c.id)).toEqual([
      'rates',
      'tiers',
      'quality',
      'scan',
      'free',
    ])
    // A row per sample, 0 … 6 s every 500 ms.
    expect(data.series.rows).toHaveLength(13)
    expect(data.heatmaps.processes.map((p: { comm: string }) => p.comm)).toEqual(['gups'])
    expect(data.heatmaps.ends_s).toHaveLength(12)
  })

  it('is the same bytes for the same scenario and seed', async () => {
    expect(readFileSync(join((await run()).out, 'report.html'), 'utf8')).toBe(html)
  })
})

describe('the charts of a long run', () => {
  it('get at most REPORT_SERIES_ROWS rows of the series: every k-th and the last', () => {
    const columns = ['time_s', 'promotions_per_s', 'app:1000:top_pages', 'app:1000:hit_ratio']
    const rows = Array.from({ length: 9001 }, (_, i) => [i, i * 2, i * 3, null])
    const { columns: charted, rows: kept } = chartData({ columns, rows }, chartSpecs(columns))
    expect(charted).toEqual([
      'time_s',
      'promotions_per_s',
      'app:1000:top_pages',
      'app:1000:hit_ratio',
    ])
    expect(kept.length).toBeLessThanOrEqual(REPORT_SERIES_ROWS + 1)
    expect(kept.slice(0, 2)).toEqual([
      [0, 0, 0, null],
      [5, 10, 15, null],
    ])
    expect(kept.at(-1)).toEqual([9000, 18000, 27000, null])
  })
})

describe('the summary tables', () => {
  const summary = (scenario: string, comms: string[]): Summary =>
    ({
      scenario,
      seed: 1,
      ended: 'duration',
      virtual_ms: 1000,
      processes: comms.map((comm, i) => ({
        pid: 1000 + i,
        comm,
        pages_per_node: [1, 2],
        started_at_ms: 0,
        exited_at_ms: null,
        pages: 3,
        time_to_finish_ms: null,
        accesses_done: null,
        top_tier_hit_ratio: 0.5,
        mean_latency_ns: 100,
        precision: null,
        recall: null,
        queued: 0,
        promotions: i,
        demotions: 0,
        hint_faults: 0,
        numa_scan_cpu_ns: 0,
        numa_fault_cpu_ns: 0,
        stalled_ns: null,
        pte_scan_scale: 8,
        target_node: 0,
        ppid: null,
      })),
      kthreads: [{ name: 'kscand', pid: 90, state: 'sleeping', cpu_ns: 2e6, cycles: 1 }],
      vmstat: {},
    }) as Summary

  it('lay several cells side by side, each over its processes', () => {
    const cells = [
      { label: 'sticky on', summary: summary('a', ['batch', 'memcached']) },
      { label: 'sticky off', summary: summary('b', ['memcached']) },
    ]
    const table = summaryTable(cells)
    expect(table).toContain(
      '<th scope="colgroup" colspan="2">sticky on</th><th scope="colgroup" colspan="1">sticky off</th>',
    )
    expect(table).toContain(
      '<tr><th scope="row">promotions</th><td>0</td><td>1</td><td>0</td></tr>',
    )
    expect(kthreadTable(cells)).toContain(
      '<tr><th scope="row">kscand</th><td>2.0 ms <small>sleeping</small></td><td>2.0 ms <small>sleeping</small></td></tr>',
    )
  })
})

describe('the README', () => {
  it('shows the screenshot of a report that npm run report-screenshot writes', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
    expect(readme).toContain('](docs/report.png)')
    const png = readFileSync(new URL('../../docs/report.png', import.meta.url))
    expect(png.subarray(1, 4).toString()).toBe('PNG')
  })
})
