/**
 * The kernel's history (src/kernel/history.ts): one sample per whole virtual second in rings
 * of a fixed size, bounded in what it keeps, and as deterministic as the trace.
 */
import { describe, expect, it } from 'vitest'
import { MiB } from '../../src/kernel/constants.ts'
import { DEMO_CONFIG, DEMO_PROCESSES } from '../../src/kernel/demo.ts'
import { HISTORY_COUNTERS, type HistorySeries } from '../../src/kernel/history.ts'
import { Kernel } from '../../src/kernel/kernel.ts'
import type { KernelConfig, ProcessSpec } from '../../src/kernel/spec.ts'
import { boot } from '../helpers/kernel.ts'

const SMALL_PROCESS: ProcessSpec = {
  comm: 'zipf',
  size: 32 * MiB,
  policy: { mode: 'interleave', nodes: [0, 2] },
  workload: { pattern: 'zipf', theta: 0.99 },
  access_rate: 1e6,
}

function demo(config: KernelConfig = {}): Kernel {
  const k = new Kernel({ ...DEMO_CONFIG, ...config })
  for (const p of DEMO_PROCESSES) k.exec(p)
  return k
}

const sum = (a: Float64Array) => a.reduce((s, v) => s + v, 0)
const plain = (h: HistorySeries) =>
  JSON.stringify(h, (_k, v) => (v instanceof Float64Array ? Array.from(v) : v))

describe('the history rings', () => {
  it('take one sample at every whole virtual second the clock passes', () => {
    const k = demo()
    expect(k.history.series().seconds).toEqual(new Float64Array(0))
    k.run(999)
    expect(k.history.newest).toBeNull()
    k.run(1000)
    expect(Array.from(k.history.series().seconds)).toEqual([1])
    k.run(12_500)
    const h = k.history.series()
    expect(Array.from(h.seconds)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1))
    // Rates per virtual second add up to the counters (every second is 1 s long).
    for (const c of HISTORY_COUNTERS) {
      const at12 = sum(h.rates[c])
      k.run(13_000)
      expect(at12 + k.history.series().rates[c][12]).toBe(k.vmstat.get(c))
    }
    expect(k.vmstat.get('pgpromote_success')).toBeGreaterThan(0)
    expect(sum(h.rates.pgpromote_success)).toBeGreaterThan(0)
  })

  it('keep the kernel threads’ CPU as a percentage of one CPU', () => {
    const k = demo()
    k.run(20_000)
    const h = k.history.series()
    expect(Object.keys(h.cpuPercent)).toEqual(k.threads().map((t) => t.comm))
    for (const t of k.threads()) {
      const series = h.cpuPercent[t.comm]
      // Each second's share of one CPU; together the thread's CPU time (ns ↔ %·s).
      expect(Math.min(...series)).toBeGreaterThanOrEqual(0)
      expect(sum(series) * 1e7).toBeCloseTo(t.cpuTimeNs(), -3)
    }
    expect(sum(h.cpuPercent.kscand)).toBeGreaterThan(0)
  })

  it('keep each process’s placement, quality and scan as GET /processes/PID shows them', () => {
    const k = demo()
    k.run(30_000)
    const h = k.history.series()
    expect(h.processes.map((p) => [p.pid, p.comm, p.since])).toEqual([
      [1000, 'memcached', 1],
      [1001, 'gups', 1],
      [1002, 'backup', 1],
    ])
    for (const p of h.processes) {
      const now = k.processStats(p.pid)
      const last = h.seconds.length - 1
      expect(p.pagesPerNode.map((n) => n[last])).toEqual(now.pages_per_node)
      expect(p.hitRatio[last]).toBe(now.top_tier_hit_ratio)
      expect(p.latencyNs[last]).toBe(now.mean_latency_ns)
      expect(p.scanPeriod[last]).toBe(now.scan?.scan_period)
      expect(p.scanSize[last]).toBe(now.scan?.scan_size)
      // Every second, the pages add up to the process's size.
      const size = k.process(p.pid).mm.nrPages
      for (let i = 0; i <= last; i++) {
        expect(p.pagesPerNode.reduce((s, n) => s + n[i], 0)).toBe(size)
      }
    }
    // kmigrated promotes gups's hot pages from CXL (from t = 2 s): its hit ratio rises.
    const gups = h.processes[1].hitRatio
    expect(gups[0]).toBe(0)
    expect(gups[gups.length - 1]).toBeGreaterThan(0.5)
  })

  it('wrap: the newest `historySeconds` samples stay, in order, each where it was', () => {
    const k = demo({ historySeconds: 60 })
    k.run(90_000)
    const before = k.history.series()
    k.run(150_000)
    const h = k.history.series()
    expect(h.capacity).toBe(60)
    expect(Array.from(h.seconds)).toEqual(Array.from({ length: 60 }, (_, i) => i + 91))
    // The 30 seconds both copies hold (61–90) are the same samples.
    const overlap = (a: Float64Array) => Array.from(a.subarray(0, 30))
    expect(overlap(h.rates.pgpromote_success)).toEqual(
      Array.from(before.rates.pgpromote_success.subarray(30)),
    )
    expect(overlap(h.processes[0].hitRatio)).toEqual(
      Array.from(before.processes[0].hitRatio.subarray(30)),
    )
  })

  it('are bounded: 60–3600 seconds, 0–32 processes, their bytes stated', () => {
    for (const historySeconds of [59, 3601, 600.5]) {
      expect(() => boot({ historySeconds })).toThrow(/historySeconds/)
    }
    expect(() => boot({ historyProcesses: 33 })).toThrow(/historyProcesses/)
    expect(() => boot({ historyProcesses: -1 })).toThrow(/historyProcesses/)
    // The demo: 3 counters, 4 kthreads, 16 slots × (3 nodes + 4) series, 8 bytes, 600 s.
    expect(demo().history.bytes).toBe((3 + 4 + 16 * 7) * 8 * 600)
  })

  it('keep the first `historyProcesses` processes; an exited one frees its slot', () => {
    const k = boot({ historyProcesses: 1 })
    const a = k.exec(SMALL_PROCESS)
    const b = k.exec({ ...SMALL_PROCESS, comm: 'other' })
    k.run(5000)
    expect(k.history.series().processes.map((p) => p.pid)).toEqual([a.pid])
    k.run(5500)
    k.exit(a.pid)
    k.run(8000)
    const h = k.history.series()
    expect(Array.from(h.seconds)).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
    const [other] = h.processes
    expect([other.pid, other.comm, other.since]).toEqual([b.pid, 'other', 6])
    // Before its first sample the slot held another process's: none of it shows.
    expect(Array.from(other.hitRatio.subarray(0, 5)).every(Number.isNaN)).toBe(true)
    expect(Array.from(other.hitRatio.subarray(5)).some(Number.isNaN)).toBe(false)
  })

  it('are deterministic: the same however the host slices the run', () => {
    const atOnce = demo()
    atOnce.run(25_000)
    const sliced = demo()
    let calls = 0
    for (;;) {
      const before = sliced.sched.steps
      const done = sliced.run(25_000, 1)
      // A sample stop on the way does not widen the caller's bound on the work.
      expect(sliced.sched.steps - before).toBeLessThanOrEqual(1)
      calls++
      if (done) break
    }
    expect(calls).toBeGreaterThan(1000)
    expect(plain(sliced.history.series())).toBe(plain(atOnce.history.series()))
  })

  it('sample an idle machine too: no thread runs, the clock still passes every second', () => {
    const k = boot({ autostart: false })
    k.exec(SMALL_PROCESS)
    k.run(600_000)
    const h = k.history.series()
    expect(h.seconds.length).toBe(600)
    expect(sum(h.cpuPercent.kscand)).toBe(0)
  })
})
