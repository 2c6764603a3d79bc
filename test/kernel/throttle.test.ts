/**
 * docs/spec/kscand-v3.md §7.11 and §7.12: the scan_period / scan_size trajectories value by
 * value, for prctl scales 1, 8 and 10 and failure ratios 0 % and 100 % — both as the pure update
 * and end to end through kmem_scan_mm_end — and the initial scan delay.
 */
import { describe, expect, it } from 'vitest'
import { GiB, MiB, PAGE_SIZE, PR_SET_PTE_A_SCAN_SCALE } from '../../src/kernel/constants.ts'
import { updateScanParams } from '../../src/kernel/kscand.ts'
import { allBut, boot, capture, fields } from '../helpers/kernel.ts'

type Case = { scale: number; fratio: number; hot: boolean; periods: number[]; sizes: number[] }

/** Runs the update n times from a new mm's state with `hot` useful pages each scan. */
function trajectory(c: Omit<Case, 'periods' | 'sizes'>, n: number) {
  let s = { scan_delta: 0, scan_period: 2000, scan_size: 1 * GiB }
  const periods: number[] = []
  const sizes: number[] = []
  for (let i = 0; i < n; i++) {
    s = updateScanParams(s, c.hot ? 1000 : 0, c.scale, c.fratio)
    periods.push(s.scan_period)
    sizes.push(s.scan_size)
  }
  return { periods, sizes }
}

const M = MiB
const cases: Case[] = [
  // The spec's worked examples (docs/spec/kscand-v3.md §7.11): default scale 8.
  {
    scale: 8,
    fratio: 0,
    hot: false,
    periods: [4088, 8357, 8888, 8888],
    sizes: [512 * M, 256 * M, 256 * M, 256 * M],
  },
  {
    scale: 8,
    fratio: 0,
    hot: true,
    periods: [1066, 1610, 2432, 3674, 5550, 8385, 8888, 8888],
    sizes: [4 * GiB, 4 * GiB, 4 * GiB, 4 * GiB, 4 * GiB, 4 * GiB, 4 * GiB, 4 * GiB],
  },
  {
    scale: 1,
    fratio: 0,
    hot: false,
    periods: [2300, 2645, 3041, 3497, 4021, 4624, 5000, 5000],
    sizes: [512 * M, 256 * M, 256 * M, 256 * M, 256 * M, 256 * M, 256 * M, 256 * M],
  },
  { scale: 1, fratio: 0, hot: true, periods: [600, 600, 600], sizes: [4 * GiB, 4 * GiB, 4 * GiB] },
  {
    scale: 10,
    fratio: 0,
    hot: false,
    periods: [4600, 10000, 10000],
    sizes: [512 * M, 256 * M, 256 * M],
  },
  {
    scale: 10,
    fratio: 0,
    hot: true,
    periods: [1200, 2040, 3468, 5894, 10000, 10000],
    sizes: [4 * GiB, 4 * GiB, 4 * GiB, 4 * GiB, 4 * GiB, 4 * GiB],
  },
  // 100 % failures: every period ×11 after the clamp and the prctl scaling.
  {
    scale: 8,
    fratio: 100,
    hot: false,
    periods: [44968, 97768, 97768],
    sizes: [512 * M, 256 * M, 256 * M],
  },
  {
    scale: 8,
    fratio: 100,
    hot: true,
    periods: [11726, 97768, 97768],
    sizes: [4 * GiB, 4 * GiB, 4 * GiB],
  },
  {
    scale: 1,
    fratio: 100,
    hot: true,
    periods: [6600, 55000, 55000],
    sizes: [4 * GiB, 4 * GiB, 4 * GiB],
  },
  { scale: 10, fratio: 100, hot: false, periods: [50600, 110000], sizes: [512 * M, 256 * M] },
]

describe('kscand_update_mmslot_info() trajectories', () => {
  for (const c of cases) {
    it(`scale ${c.scale}, failures ${c.fratio} %, ${c.hot ? 'hot' : 'idle'} mm`, () => {
      expect(trajectory(c, c.periods.length)).toEqual({ periods: c.periods, sizes: c.sizes })
    })
  }

  it('decays the previous useful pages by 16 and ignores totals under 256', () => {
    // 300 useful pages, then nothing: decayed 300>>4 = 18 < 256 → 0, so case 3 (×8).
    const a = updateScanParams({ scan_delta: 0, scan_period: 2000, scan_size: GiB }, 300, 1, 0)
    expect(a).toEqual({ scan_delta: 300, scan_period: 600, scan_size: 4 * GiB })
    const b = updateScanParams(a, 0, 1, 0)
    expect(b).toEqual({ scan_delta: 0, scan_period: 4800, scan_size: 4 * GiB })
    // 255 useful pages count as none.
    const c = updateScanParams({ scan_delta: 0, scan_period: 2000, scan_size: GiB }, 255, 1, 0)
    expect(c.scan_delta).toBe(0)
    expect(c.scan_period).toBe(2300)
  })
})

/** Periods and sizes used by successive scans of one mm, read from kmem_scan_mm_end. */
function scansOf(hot: boolean, scale: number, scans: number) {
  const k = boot()
  // Hot: a CXL-resident mm accessed far more often than it is scanned, never promoted.
  // Idle: a DRAM-resident mm, so no slow-tier page is ever useful.
  const p = k.exec({
    comm: hot ? 'hot' : 'idle',
    size: 2 * MiB,
    policy: { mode: 'bind', nodes: [hot ? 2 : 0] },
    workload: hot ? { pattern: 'uniform' } : { pattern: 'idle' },
    access_rate: 1e9,
  })
  if (scale !== 8) k.prctl(p.pid, PR_SET_PTE_A_SCAN_SCALE, scale)
  k.stopThread('kmigrated')
  const trace = capture(k, allBut('kmem_scan_mm_start'))
  while (trace.named('kmem_scan_mm_end').length < scans) k.run(k.now + 1000)
  return trace.named('kmem_scan_mm_end').slice(0, scans).map(fields)
}

describe('the same trajectories, end to end', () => {
  it('an idle mm at the default scale backs off 2000 → 4088 → 8357 → 8888 ms', () => {
    const ends = scansOf(false, 8, 5)
    expect(ends.map((e) => e.scan_period)).toEqual([2000, 4088, 8357, 8888, 8888])
    expect(ends.map((e) => e.scan_size)).toEqual([GiB, 512 * MiB, 256 * MiB, 256 * MiB, 256 * MiB])
  })

  for (const [scale, periods] of [
    [1, [2000, 600, 600, 600]],
    [8, [2000, 1066, 1610, 2432, 3674]],
    [10, [2000, 1200, 2040, 3468, 5894]],
  ] as const) {
    it(`a hot mm at scale ${scale} scans at ${periods.join(', ')} ms`, () => {
      const ends = scansOf(true, scale, periods.length)
      expect(ends.map((e) => e.scan_period)).toEqual(periods)
      expect(ends.every((e) => e.total === 512)).toBe(true)
    })
  }

  it('scans happen scan_period apart (within one kscand cycle)', () => {
    const k = boot()
    k.exec({ comm: 'idle', size: 2 * MiB, policy: { mode: 'bind', nodes: [0] } })
    const trace = capture(k)
    k.run(20_000)
    const ts = trace.named('kmem_scan_mm_end').map((e) => Math.floor(e.ts / 1000))
    const ends = trace.named('kmem_scan_mm_end').map(fields)
    for (let i = 1; i < ts.length; i++) {
      const gap = ts[i] - ts[i - 1]
      const next = Number(ends[i].scan_period)
      expect(gap).toBeGreaterThanOrEqual(next)
      expect(gap).toBeLessThanOrEqual(next + 21)
    }
  })

  it('failure feedback: 1024 failed promotions in one drain multiply the next period by 11', () => {
    // DRAM nodes full (demotion off) so every promotion fails its watermark check (rc 11).
    const k = boot({ demotionEnabled: false })
    for (const n of [0, 1]) {
      const node = k.machine.nodes[n]
      const size = (node.pages - node.wmarkMin) * PAGE_SIZE
      k.exec({ comm: `fill${n}`, size, policy: { mode: 'bind', nodes: [n] } })
    }
    const p = k.exec({
      comm: 'hot',
      size: 8 * MiB,
      policy: { mode: 'bind', nodes: [2] },
      access_rate: 1e9,
    })
    k.prctl(p.pid, PR_SET_PTE_A_SCAN_SCALE, 1)
    const trace = capture(k)
    while (trace.named('kmem_scan_mm_end').filter((e) => e.args[0] === p.mm.id).length < 3) {
      k.run(k.now + 500)
    }
    const ends = trace
      .named('kmem_scan_mm_end')
      .filter((e) => e.args[0] === p.mm.id)
      .map(fields)
    const migrate = trace.named('kmem_scan_mm_migrate').map(fields)
    expect(migrate.length).toBeGreaterThanOrEqual(2048)
    expect(migrate.every((m) => m.rc === 11)).toBe(true)
    expect(k.processStats(p.pid).migration?.fratio).toBe(100)
    // Scan 1 at 2000 ms (case 2 → 600), its 2048 entries all fail → fratio 100 → scan 2 uses
    // 600 (computed before the failures), scan 3 uses case 4's 510→600 ×11 = 6600.
    expect(ends.map((e) => e.scan_period)).toEqual([2000, 600, 6600])
  })
})

describe('initial scan delay (docs/spec/kscand-v3.md §7.12)', () => {
  it('skips a new mm for 2 × numa_balancing_scan_delay, then scans it', () => {
    const k = boot()
    k.run(500)
    const p = k.exec({ comm: 'late', size: 2 * MiB })
    const trace = capture(k)
    k.run(2499)
    expect(trace.named('kmem_scan_mm_end')).toHaveLength(0)
    // Visits before then are only starts (kmem_scan_mm_start fires before the due check).
    expect(trace.named('kmem_scan_mm_start').length).toBeGreaterThan(0)
    k.run(2500 + 21)
    const ends = trace.named('kmem_scan_mm_end')
    expect(ends).toHaveLength(1)
    expect(ends[0].args[0]).toBe(p.mm.id)
  })

  it('uses the configured delay', () => {
    const k = boot({ numaBalancingScanDelayMs: 100 })
    k.exec({ comm: 'short', size: 2 * MiB })
    k.run(199)
    expect(k.vmstat.get('nr_kscand_mm_scans')).toBe(0)
    k.run(230)
    expect(k.vmstat.get('nr_kscand_mm_scans')).toBe(1)
  })
})
