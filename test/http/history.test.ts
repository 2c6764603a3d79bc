/**
 * GET /sim/history: what the dashboard charts, from the oldest sample the kernel keeps, after
 * the virtual clock was driven through the API (POST /sim/step), as a client would.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { MiB } from '../../src/kernel/constants.ts'
import { History } from '../../src/schemas/history.ts'
import { type Built, build, JSON_ACCEPT } from '../helpers/http.ts'

const ZIPF = {
  comm: 'zipf',
  size: 32 * MiB,
  policy: { mode: 'interleave' as const, nodes: [0, 2] },
  workload: { pattern: 'zipf' as const, theta: 0.99 },
  access_rate: 1e6,
}

let t: Built
afterEach(() => t.close())

const step = async (ms: number) => {
  const r = await t.server.inject({ method: 'POST', url: '/sim/step', payload: { ms } })
  expect(r.statusCode).toBe(200)
}
const history = async () => {
  const r = await t.server.inject({ url: '/sim/history', headers: JSON_ACCEPT })
  expect(r.statusCode).toBe(200)
  return History.parse(r.json())
}
const vmstat = async () =>
  Object.fromEntries(
    (await t.server.inject({ url: '/proc/vmstat' })).body
      .trim()
      .split('\n')
      .map((l) => l.split(' '))
      .map(([k, v]) => [k, Number(v)]),
  )
const total = (a: (number | null)[]) => a.reduce<number>((s, v) => s + (v ?? 0), 0)

describe('GET /sim/history', () => {
  it('after 120 virtual s holds every second from t = 1 s, each series filled', async () => {
    t = await build({ processes: [ZIPF] })
    await step(120_000)
    const h = await history()
    expect(h.now).toBe(120_000)
    expect([h.interval_ms, h.capacity_s]).toEqual([1000, 600])
    expect(h.time_s).toEqual(Array.from({ length: 120 }, (_, i) => i + 1))
    // The rates add up to the counters /proc/vmstat shows.
    const counters = await vmstat()
    for (const [name, rates] of Object.entries(h.rates)) {
      expect(rates).toHaveLength(120)
      expect(total(rates), name).toBe(counters[name])
    }
    expect(total(h.rates.pgpromote_success)).toBeGreaterThan(0)
    expect(Object.keys(h.cpu_percent)).toEqual(['kscand', 'kmigrated', 'kswapd0', 'kswapd1'])
    for (const cpu of Object.values(h.cpu_percent)) {
      expect(cpu.every((v) => v !== null && v >= 0 && v <= 100)).toBe(true)
    }
    const [p] = h.processes
    expect([p.pid, p.comm, p.since_s]).toEqual([1000, 'zipf', 1])
    expect(p.pages_per_node).toHaveLength(3)
    const series = [
      ...p.pages_per_node,
      p.top_tier_hit_ratio,
      p.mean_latency_ns,
      p.scan_period,
      p.scan_size,
    ]
    for (const s of series) {
      expect(s).toHaveLength(120)
      expect(s.every((v) => v !== null)).toBe(true)
    }
    // Its hot pages came up from the CXL node: more of its accesses hit the top tier.
    expect(p.top_tier_hit_ratio[119]).toBeGreaterThan(p.top_tier_hit_ratio[0] ?? 1)
    const last = await t.server.inject({ url: '/processes/1000', headers: JSON_ACCEPT })
    expect(p.pages_per_node.map((n) => n[119])).toEqual(last.json().pages_per_node)
  })

  it('prints the machine-wide series as a table for cat', async () => {
    t = await build({ processes: [ZIPF] })
    await step(3000)
    const text = (await t.server.inject({ url: '/sim/history' })).body.split('\n')
    expect(text[0].split(/ +/)).toEqual([
      'TIME_S',
      'PGPROMOTE_SUCCESS/S',
      'NR_KSCAND_MIGRATE_FAILED/S',
      'PGDEMOTE_KSWAPD/S',
      'KSCAND_CPU%',
      'KMIGRATED_CPU%',
      'KSWAPD0_CPU%',
      'KSWAPD1_CPU%',
    ])
    expect(text.slice(1, -1).map((l) => l.split(/ +/)[0])).toEqual(['1', '2', '3'])
    expect(text.at(-1)).toBe('')
    expect(text.join('\n')).not.toContain('[object Object]')
  })

  it('is bounded by HISTORY_SECONDS: the newest samples stay, the body stays small', async () => {
    t = await build({ processes: [ZIPF], config: { historySeconds: 60 } })
    await step(150_000)
    const r = await t.server.inject({ url: '/sim/history', headers: JSON_ACCEPT })
    const h = History.parse(r.json())
    expect(h.capacity_s).toBe(60)
    expect(h.time_s).toEqual(Array.from({ length: 60 }, (_, i) => i + 91))
    expect(h.processes[0].scan_period).toHaveLength(60)
    expect(r.body.length).toBeLessThan(64 * 1024)
  })

  it('starts a late process where it came; its ETag changes as samples arrive', async () => {
    t = await build({ processes: [ZIPF] })
    await step(5500)
    const spawned = await t.server.inject({
      method: 'POST',
      url: '/processes',
      payload: { ...ZIPF, comm: 'late' },
      headers: JSON_ACCEPT,
    })
    expect(spawned.statusCode).toBe(201)
    await step(4500)
    const h = await history()
    const late = h.processes.find((p) => p.comm === 'late')
    expect(late?.since_s).toBe(6)
    expect(late?.top_tier_hit_ratio.slice(0, 5)).toEqual([null, null, null, null, null])
    expect(late?.top_tier_hit_ratio.slice(5).every((v) => v !== null)).toBe(true)

    const first = await t.server.inject({ url: '/sim/history', headers: JSON_ACCEPT })
    const etag = String(first.headers.etag)
    const again = await t.server.inject({
      url: '/sim/history',
      headers: { ...JSON_ACCEPT, 'if-none-match': etag },
    })
    expect(again.statusCode).toBe(304)
    await step(1000)
    const later = await t.server.inject({
      url: '/sim/history',
      headers: { ...JSON_ACCEPT, 'if-none-match': etag },
    })
    expect(later.statusCode).toBe(200)
    expect(History.parse(later.json()).time_s.at(-1)).toBe(11)
  })
})
