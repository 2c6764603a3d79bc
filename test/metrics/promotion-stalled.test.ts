/**
 * kscand_sim_promotion_stalled on GET /metrics: one sample per process whose promotions
 * stall, labelled with the cause GET /processes/PID names, and none once the switch is
 * flipped; promtool accepts the exposition.
 */
import { spawnSync } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MiB } from '../../src/kernel/constants.ts'
import { buildOps, type OpsApp, SMALL_MACHINE } from '../helpers/process.ts'

const STALLED = 'kscand_sim_promotion_stalled'

let a: OpsApp

beforeAll(async () => {
  // The small machine's process gets the first migration list; a second one, hot on the CXL
  // node, waits behind it (the sticky slot).
  a = await buildOps({ machine: SMALL_MACHINE })
  a.kernel.exec({
    comm: 'waits',
    size: 8 * MiB,
    policy: { mode: 'bind', nodes: [2] },
    workload: { pattern: 'uniform' },
    access_rate: 1e5,
  })
  await a.runner.step(5000)
})

afterAll(() => a?.close())

const scrape = async () => {
  const r = await a.server.inject({ url: '/metrics' })
  expect(r.statusCode).toBe(200)
  return r.body
}
const stalledLines = (text: string) => text.split('\n').filter((l) => l.startsWith(`${STALLED}{`))

describe(STALLED, () => {
  it('is 1 for each stalled process, with the cause the process view names', async () => {
    const text = await scrape()
    expect(text).toContain(`# TYPE ${STALLED} gauge\n`)
    expect(text).toMatch(new RegExp(`^# HELP ${STALLED} .*sticky_slot.*$`, 'm'))
    const expected = a.kernel.processList().flatMap((p) => {
      const { stall } = a.kernel.processStats(p.pid)
      return stall ? [`${STALLED}{pid="${p.pid}",comm="${p.comm}",cause="${stall.cause}"} 1`] : []
    })
    expect(stalledLines(text)).toEqual(expected)
    expect(expected).toEqual([`${STALLED}{pid="1001",comm="waits",cause="sticky_slot"} 1`])
    const detail = await a.server.inject({ url: '/processes/1001' })
    expect(detail.body).toMatch(/^stalled sticky_slot$/m)

    const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' })
    expect(r.stdout + r.stderr).toBe('')
    expect(r.status).toBe(0)
  })

  it('has no sample once the switch is flipped (kmigrated goes round-robin)', async () => {
    const w = await a.server.inject({
      method: 'PUT',
      url: '/sys/kernel/mm/kmigrated/quirks/kmigrated_sticky_slot',
      payload: '0',
      headers: { 'content-type': 'text/plain' },
    })
    expect(w.statusCode).toBe(200)
    await a.runner.step(1000)
    const text = await scrape()
    expect(stalledLines(text)).toEqual([])
    // The family stays declared, empty.
    expect(text).toContain(`# TYPE ${STALLED} gauge\n`)
  })
})
