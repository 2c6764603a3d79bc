/**
 * Closed-loop workloads (docs/numa-balancing.md §9): the rate follows from where the pages
 * are and from the stalls charged to the task; the time to finish is reported.
 */
import { describe, expect, it } from 'vitest'
import { MiB } from '../../src/kernel/constants.ts'
import { boot } from '../helpers/kernel.ts'

const LOOP = { threads: 4, think_ns: 900, accesses: 4_000_000 }

describe('closed-loop processes', () => {
  it('finish in accesses × (think + latency) / threads, from DRAM or from CXL', () => {
    for (const [mem_node, latency] of [
      [0, 100],
      [2, 220],
    ]) {
      const k = boot()
      k.stopThread('kscand')
      const p = k.exec({
        comm: 'loop',
        size: 4 * MiB,
        policy: { mode: 'local', cpu_node: 0, mem_node },
        closed_loop: LOOP,
      })
      // 4 threads at 1 access per (900 + latency) ns.
      expect(p.access_rate).toBeCloseTo(4e9 / (900 + latency), 0)
      k.advance(5000)
      const s = k.processStats(p.pid).closed_loop!
      const expected = (LOOP.accesses * (900 + latency)) / LOOP.threads / 1e6
      expect(s.time_to_finish_ms).toBeCloseTo(expected, 6)
      expect(s.done).toBe(LOOP.accesses)
      // Done: it accesses nothing any more.
      expect(p.access_rate).toBe(0)
      expect(k.processStats(p.pid).closed_loop!.finished_at).toBeCloseTo(expected, 6)
    }
  })

  it('a process whose pages are promoted finishes sooner; the stalls of its hint faults are counted', () => {
    const run = (mode: number) => {
      const k = boot({ numaBalancing: mode })
      k.stopThread('kscand')
      const p = k.exec({
        comm: 'loop',
        size: 4 * MiB,
        policy: { mode: 'local', cpu_node: 0, mem_node: 2 },
        closed_loop: { threads: 4, think_ns: 900, accesses: 20_000_000 },
      })
      k.advance(10_000)
      return k.processStats(p.pid)
    }
    const none = run(0).closed_loop!
    const numab = run(2)
    expect(none.time_to_finish_ms).toBeCloseTo((20e6 * 1120) / 4 / 1e6, 3)
    expect(numab.pages_per_node).toEqual([1024, 0, 0])
    expect(numab.closed_loop!.time_to_finish_ms!).toBeLessThan(none.time_to_finish_ms! * 0.95)
    // Stalls count while it runs; its task goes on scanning after it finished.
    expect(numab.closed_loop!.stalled_ns).toBeLessThanOrEqual(
      numab.numa!.scan_ns + numab.numa!.fault_ns,
    )
    expect(numab.closed_loop!.stalled_ns).toBeGreaterThanOrEqual(1024 * (2000 + 28900))
  })

  it('rejects a closed loop with a rate, or without a random pattern, changing nothing', () => {
    const k = boot()
    const spec = { comm: 'x', size: 4 * MiB, closed_loop: LOOP }
    expect(() => k.exec({ ...spec, access_rate: 5 })).toThrow(/either access_rate or closed_loop/)
    expect(() => k.exec({ ...spec, workload: { pattern: 'sequential' } })).toThrow(/random/)
    expect(() => k.exec({ ...spec, closed_loop: { ...LOOP, threads: 0 } })).toThrow(/threads/)
    expect(k.processList()).toHaveLength(0)
  })
})
