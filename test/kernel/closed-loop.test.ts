/**
 * Closed-loop workloads (docs/numa-balancing.md §9): the rate follows from where the pages
 * are and from the stalls charged to the task; the time to finish is reported.
 */
import { describe, expect, it } from 'vitest'
import { MiB } from '../../src/kernel/constants.ts'
import { boot } from '../helpers/kernel.ts'

const LOOP = { threads: 4, thinkNs: 900, accesses: 4_000_000 }

describe('closed-loop processes', () => {
  it('finish in accesses × (think + latency) / threads, from DRAM or from CXL', () => {
    for (const [memNode, latency] of [
      [0, 100],
      [2, 220],
    ]) {
      const k = boot()
      k.stopThread('kscand')
      const p = k.exec({
        comm: 'loop',
        size: 4 * MiB,
        policy: { mode: 'local', cpuNode: 0, memNode },
        closedLoop: LOOP,
      })
      // 4 threads at 1 access per (900 + latency) ns.
      expect(p.accessRate).toBeCloseTo(4e9 / (900 + latency), 0)
      k.advance(5000)
      const s = k.processStats(p.pid).closedLoop!
      const expected = (LOOP.accesses * (900 + latency)) / LOOP.threads / 1e6
      expect(s.timeToFinishMs).toBeCloseTo(expected, 6)
      expect(s.done).toBe(LOOP.accesses)
      // Done: it accesses nothing any more.
      expect(p.accessRate).toBe(0)
      expect(k.processStats(p.pid).closedLoop!.finishedAt).toBeCloseTo(expected, 6)
    }
  })

  it('a process whose pages are promoted finishes sooner; the stalls of its hint faults are counted', () => {
    const run = (mode: number) => {
      const k = boot({ numaBalancing: mode })
      k.stopThread('kscand')
      const p = k.exec({
        comm: 'loop',
        size: 4 * MiB,
        policy: { mode: 'local', cpuNode: 0, memNode: 2 },
        closedLoop: { threads: 4, thinkNs: 900, accesses: 20_000_000 },
      })
      k.advance(10_000)
      return k.processStats(p.pid)
    }
    const none = run(0).closedLoop!
    const numab = run(2)
    expect(none.timeToFinishMs).toBeCloseTo((20e6 * 1120) / 4 / 1e6, 3)
    expect(numab.pagesPerNode).toEqual([1024, 0, 0])
    expect(numab.closedLoop!.timeToFinishMs!).toBeLessThan(none.timeToFinishMs! * 0.95)
    // Stalls count while it runs; its task goes on scanning after it finished.
    expect(numab.closedLoop!.stalledNs).toBeLessThanOrEqual(
      numab.numa!.scanNs + numab.numa!.faultNs,
    )
    expect(numab.closedLoop!.stalledNs).toBeGreaterThanOrEqual(1024 * (2000 + 28900))
  })

  it('rejects a closed loop with a rate, or without a random pattern, changing nothing', () => {
    const k = boot()
    const spec = { comm: 'x', size: 4 * MiB, closedLoop: LOOP }
    expect(() => k.exec({ ...spec, accessRate: 5 })).toThrow(/either accessRate or closedLoop/)
    expect(() => k.exec({ ...spec, workload: { pattern: 'sequential' } })).toThrow(/random/)
    expect(() => k.exec({ ...spec, closedLoop: { ...LOOP, threads: 0 } })).toThrow(/threads/)
    expect(k.processList()).toHaveLength(0)
  })
})
