/**
 * NUMA balancing (docs/numa-balancing.md): the tiering arithmetic value by value, the scan
 * period, the window walk, each mode's decision on a scripted page table, the counters.
 */
import { describe, expect, it } from 'vitest'
import { MiB } from '../../src/kernel/constants.ts'
import type { Kernel } from '../../src/kernel/kernel.ts'
import type { Process } from '../../src/kernel/mm.ts'
import {
  LAST_CPUPID_MASK,
  numaHintFaultLatency,
  numaPromotionAdjustThreshold,
  numaPromotionRateLimit,
  PgdatNumab,
  taskScanMax,
  taskScanMin,
  updateTaskScanPeriod,
} from '../../src/kernel/numa-balancing.ts'
import { boot, capture, fields, pagesConserved } from '../helpers/kernel.ts'

const KNOBS = { scan_period_min_ms: 1000, scan_period_max_ms: 60000, scan_size_mb: 256 }
const GiB_PAGES = 262144

describe('the hot threshold adjustment (numa_promotion_adjust_threshold)', () => {
  it('steps by def_th·2/16 within [125, 2000] ms, judged every 60 s against the rate limit', () => {
    const pgdat = new PgdatNumab()
    const rateLimit = 100 << 8 // 100 MB/s: ref_cand = 25600 · 60 = 1,536,000
    // [time (ms), candidates counted so far, threshold after]
    const script: [number, number, number][] = [
      [60000, 5_000_000, 0], // not yet more than 60 s after the start: unchanged (0 = def_th)
      [60001, 5_000_000, 875], // 5 M > 1.1 · ref: faster promotion is too much, th − 125
      [90000, 9_000_000, 875], // inside the window
      [120002, 6_536_000, 875], // diff 1.536 M = ref: inside the ±10 % band
      [180003, 8_225_601, 750], // diff 1,689,601 > 1,689,600
      [240004, 8_225_601 + 1_689_600, 750], // exactly 1.1 · ref: no change
      [300005, 9_915_201 + 1_382_399, 875], // below 0.9 · ref (1,382,400): slower, th + 125
    ]
    for (const [t, cand, th] of script) {
      pgdat.pgpromote_candidate = cand
      numaPromotionAdjustThreshold(pgdat, rateLimit, 1000, t, 60000)
      expect([t, pgdat.nbp_threshold]).toEqual([t, th])
    }
    expect(pgdat.nbp_th_nr_cand).toBe(9_915_201 + 1_382_399)
  })

  it('creeps up to 2 × hot_threshold_ms under the default (unreachable) rate limit, and down to 125', () => {
    const pgdat = new PgdatNumab()
    const ths: number[] = []
    for (let i = 1; i <= 10; i++) {
      numaPromotionAdjustThreshold(pgdat, 65536 << 8, 1000, i * 60001, 60000)
      ths.push(pgdat.nbp_threshold)
    }
    expect(ths).toEqual([1125, 1250, 1375, 1500, 1625, 1750, 1875, 2000, 2000, 2000])
    // Without the creep the threshold stays where it is.
    const still = new PgdatNumab()
    numaPromotionAdjustThreshold(still, 65536 << 8, 1000, 60001, 60000, false)
    expect(still.nbp_threshold).toBe(1000)
    const down = new PgdatNumab()
    for (let i = 1; i <= 10; i++) {
      down.pgpromote_candidate += 10_000_000
      numaPromotionAdjustThreshold(down, 100, 1000, i * 60001, 60000)
    }
    expect(down.nbp_threshold).toBe(125)
  })
})

describe('the rate limit (numa_promotion_rate_limit)', () => {
  it('limits once the window holds rate_limit candidates; a window opens >1 s after the last', () => {
    const pgdat = new PgdatNumab()
    // [time, limited?]: limit 3 pages per second
    const script: [number, boolean][] = [
      [0, false],
      [10, false],
      [20, true], // 3 − 0 ≥ 3
      [1000, true], // 1000 − 0 is not > 1000
      [1001, false], // a new window starts with this candidate: difference 0
      [1002, false],
      [1500, false],
      [1600, true],
      [2002, true], // 2002 − 1001 = 1001 > 1000: a new window, but 4 − ... see below
    ]
    const got = script.map(([t]) => numaPromotionRateLimit(pgdat, 3, 1, t))
    // The last candidate opens a window: it is never limited.
    expect(got).toEqual([false, false, true, true, false, false, false, true, false])
    expect(pgdat.pgpromote_candidate).toBe(9)
    expect(pgdat).toMatchObject({ nbp_rl_start: 2002, nbp_rl_nr_cand: 9 })
    void script
  })
})

describe('the hint-fault latency (numa_hint_fault_latency)', () => {
  it('is now − the stored scan time, masked to 21 bits, and stores now', () => {
    expect(numaHintFaultLatency(1100, 100)).toEqual({ latency: 1000, stored: 1100 })
    const wrapped = 2 ** 21 + 110
    // A page scanned at 100 and first touched 35 minutes later looks 10 ms old.
    expect(numaHintFaultLatency(wrapped, 100)).toEqual({ latency: 10, stored: 110 })
    expect(numaHintFaultLatency(wrapped, 100, false)).toEqual({
      latency: 2 ** 21 + 10,
      stored: wrapped,
    })
    // The stored time was masked, so "now" below it also wraps.
    expect(numaHintFaultLatency(2 ** 21 + 5, LAST_CPUPID_MASK - 4).latency).toBe(10)
  })
})

describe('scan period', () => {
  it('task_scan_min/max over the RSS in 256 MB windows (8 GiB: 100–1875 ms; 128 GiB: 100–117)', () => {
    expect([taskScanMin(8 * GiB_PAGES, KNOBS), taskScanMax(8 * GiB_PAGES, KNOBS)]).toEqual([
      100, 1875,
    ])
    expect([taskScanMin(128 * GiB_PAGES, KNOBS), taskScanMax(128 * GiB_PAGES, KNOBS)]).toEqual([
      100, 117,
    ])
    expect([taskScanMin(1024, KNOBS), taskScanMax(1024, KNOBS)]).toEqual([1000, 60000])
    expect(taskScanMin(0, KNOBS)).toBe(1000)
    // A window of 2560 MB or more: the floor is 1000 ms.
    expect(taskScanMin(8 * GiB_PAGES, { ...KNOBS, scan_size_mb: 4096 })).toBe(1000)
  })

  it('update_task_scan_period: doubling, slower by private or local ratio, faster otherwise', () => {
    const upd = (locality: [number, number, number], shared: number, priv: number) =>
      updateTaskScanPeriod(1000, 4000, 200, 3000, locality, shared, priv).period
    expect(upd([10, 0, 0], 0, 10)).toBe(2000) // no local, no shared: × 2
    expect(updateTaskScanPeriod(3000, 4000, 200, 3000, [10, 0, 0], 0, 10).period).toBe(4000)
    expect(upd([0, 10, 5], 3, 7)).toBe(2000) // failed migrations: × 2
    expect(upd([2, 8, 0], 0, 10)).toBe(1300) // ps = 10: +3 slots of 100
    expect(upd([2, 8, 0], 5, 5)).toBe(1100) // ps = 5, lr = 8: +1 slot
    expect(upd([3, 7, 0], 3, 7)).toBe(1100) // ps = 7: max(0, 1) slot
    expect(upd([7, 3, 0], 7, 3)).toBe(600) // lr = ps = 3: −4 slots
    expect(upd([10, 0, 0], 10, 0)).toBe(300) // −7 slots, clamped at 200 if below
    expect(upd([9, 0, 0], 9, 0)).toBe(300)
    expect(updateTaskScanPeriod(1000, 4000, 500, 3000, [10, 0, 0], 10, 0).period).toBe(500)
    expect(updateTaskScanPeriod(1000, 4000, 200, 3000, [10, 0, 0], 0, 10, false)).toEqual({
      period: 1000,
      doubled: false,
    })
  })
})

/** Runs until `pred` holds, in 1-ms steps, at most `ms`. */
function runUntil(k: Kernel, pred: () => boolean, ms: number): void {
  const end = k.now + ms
  while (!pred() && k.now < end) k.run(k.now + 1)
}

describe('the window walk (task_numa_work)', () => {
  it('marks scan_size worth of PTEs per call and resumes at the offset, skipping a read-only file VMA', () => {
    const k = boot({ numaBalancing: 2 })
    k.stopThread('kscand')
    k.numab.scan_size_mb = 2
    const p = k.exec({
      comm: 'walk',
      vmas: [
        { kind: 'anon', size: 8 * MiB },
        { kind: 'file_ro', size: 2 * MiB },
        { kind: 'anon', size: 4 * MiB },
      ],
      policy: { mode: 'local', cpu_node: 0 },
      workload: { pattern: 'idle' },
    })
    for (let i = 0; i < p.mm.nrPages; i++) k.movePage(p.mm, i, 2)
    const trace = capture(k)
    const task = k.numab.task(p)!
    const [a, ro, b] = p.mm.vmas
    const offsets: number[] = []
    const updates: number[] = []
    for (let scan = 1; scan <= 7; scan++) {
      runUntil(k, () => task.scans === scan, 5000)
      offsets.push(task.numa_scan_offset)
      updates.push(k.vmstat.get('numa_pte_updates'))
    }
    const M2 = 2 * MiB
    expect(offsets).toEqual([
      a.start + M2,
      a.start + 2 * M2,
      a.start + 3 * M2,
      a.end,
      b.start + M2,
      b.end,
      0,
    ])
    expect(updates).toEqual([512, 1024, 1536, 2048, 2560, 3072, 3072])
    expect(task.mm_numa_scan_seq).toBe(2)
    // 14 MiB in 2 MiB windows: 7 windows, so 1000 / 7 ms per window.
    expect(task.numa_scan_period).toBe(142)
    const skips = trace.named('sched_skip_vma_numa').map(fields)
    // The new pass comes back within 1 s of the VMAs' first visit: SCAN_DELAY.
    expect(skips.map((s) => s.reason)).toEqual([
      'shared_ro',
      'scan_delay',
      'shared_ro',
      'scan_delay',
    ])
    expect(skips[0]).toMatchObject({ vm_start: ro.start, vm_end: ro.end, numa_scan_offset: a.end })
    expect(trace.lines().find((l) => l.includes('sched_skip_vma_numa'))).toContain(
      `numa_scan_offset=${a.end.toString(16).toUpperCase()} vm_start=${ro.start.toString(16).toUpperCase()}`,
    )
  })
})

/** A 4 MiB process on node 0: half its pages stay there, a quarter on node 1, a quarter on CXL. */
function scripted(mode: number, config = {}): { k: Kernel; p: Process } {
  const k = boot({ numaBalancing: mode, ...config })
  k.stopThread('kscand')
  const p = k.exec({
    comm: 'tbl',
    size: 4 * MiB,
    policy: { mode: 'local', cpu_node: 0 },
    access_rate: 1e7,
  })
  for (let i = 512; i < 768; i++) k.movePage(p.mm, i, 1)
  for (let i = 768; i < 1024; i++) k.movePage(p.mm, i, 2)
  return { k, p }
}

const counters = (k: Kernel) => {
  const v = k.vmstat.snapshot()
  return {
    numa_pte_updates: v.numa_pte_updates,
    numa_hint_faults: v.numa_hint_faults,
    numa_hint_faults_local: v.numa_hint_faults_local,
    numa_pages_migrated: v.numa_pages_migrated,
    pgpromote_candidate: v.pgpromote_candidate,
    pgpromote_success: v.pgpromote_success,
    pgmigrate_success: v.pgmigrate_success,
  }
}

describe('each mode on a scripted page table', () => {
  it('mode 2: only slow-tier pages are marked; each hot one is a candidate and is promoted', () => {
    const { k, p } = scripted(2)
    const trace = capture(k)
    k.advance(2500)
    expect(counters(k)).toEqual({
      numa_pte_updates: 256,
      numa_hint_faults: 256,
      numa_hint_faults_local: 0,
      numa_pages_migrated: 256,
      // 64 MiB of DRAM never has 1 GiB free: every promotion goes through the threshold.
      pgpromote_candidate: 256,
      pgpromote_success: 256,
      pgmigrate_success: 256,
    })
    expect(Array.from(p.mm.pagesOnNode)).toEqual([768, 256, 0])
    expect(k.numab.pgdat[0]).toMatchObject({ pgpromote_candidate: 256, pgpromote_success: 256 })
    const migrations = trace.named('mm_migrate_pages')
    expect(migrations).toHaveLength(256)
    expect(trace.lines().find((l) => l.includes('mm_migrate_pages'))).toMatch(
      /^\d+ tbl-1000 mm_migrate_pages: nr_succeeded=1 nr_failed=0 thp_succeeded=0 thp_failed=0 thp_split=0 large_folio_split=0 mode=MIGRATE_ASYNC reason=numa_misplaced$/,
    )
    // The task paid for the faults and migrations.
    const task = k.numab.task(p)!
    expect(task.fault_ns).toBe(256 * (2000 + 28900))
    expect(pagesConserved(k)).toBe(true)
  })

  it('mode 2: a page faulting later than the threshold after its scan is not a candidate', () => {
    const { k } = scripted(2)
    k.numab.hot_threshold_ms = 0
    k.advance(2500)
    expect(counters(k)).toMatchObject({
      numa_hint_faults: 256,
      pgpromote_candidate: 0,
      numa_pages_migrated: 0,
    })
  })

  it('mode 2: rate-limited candidates are counted but not promoted', () => {
    const { k } = scripted(2)
    k.numab.store_promote_rate_limit(0)
    k.advance(2500)
    expect(counters(k)).toMatchObject({
      numa_hint_faults: 256,
      pgpromote_candidate: 256,
      pgpromote_success: 0,
      numa_pages_migrated: 0,
    })
  })

  it('mode 1: both tiers scanned (not the local node); remote DRAM moves at once, CXL needs a second fault', () => {
    const { k, p } = scripted(1)
    k.advance(2500)
    expect(counters(k)).toEqual({
      numa_pte_updates: 512,
      numa_hint_faults: 512,
      numa_hint_faults_local: 0,
      numa_pages_migrated: 256,
      pgpromote_candidate: 0,
      pgpromote_success: 0,
      pgmigrate_success: 256,
    })
    expect(Array.from(p.mm.pagesOnNode)).toEqual([768, 0, 256])
    // The first pass ended inside the first scan, so its first fault ran task_numa_placement()
    // with no local or shared fault yet: the period doubled to 2 s.
    const task = k.numab.task(p)!
    expect(task.numa_scan_period).toBe(2000)
    k.advance(2000)
    // The second scan marks the CXL pages again; now their cpupid is valid and they move.
    expect(Array.from(p.mm.pagesOnNode)).toEqual([1024, 0, 0])
    expect(counters(k)).toMatchObject({ numa_pages_migrated: 512, pgpromote_success: 0 })
  })

  it('mode 3: DRAM pages by the cpupid rule, CXL pages by the tiering rule', () => {
    const { k, p } = scripted(3)
    k.advance(2500)
    expect(Array.from(p.mm.pagesOnNode)).toEqual([1024, 0, 0])
    expect(counters(k)).toMatchObject({
      numa_pte_updates: 512,
      numa_pages_migrated: 512,
      pgpromote_candidate: 256,
      pgpromote_success: 256,
    })
  })

  it('mode 0: nothing is scanned; PTEs left PROT_NONE still fault, and a stale time blocks migration', () => {
    expect(counters(scripted(0).k)).toMatchObject({ numa_pte_updates: 0 })
    const k = boot({ numaBalancing: 2 })
    k.stopThread('kscand')
    const p = k.exec({
      comm: 'slow',
      size: 4 * MiB,
      policy: { mode: 'local', cpu_node: 0 },
      access_rate: 10, // 0.01 accesses per page per second: most faults come much later
    })
    for (let i = 0; i < 1024; i++) k.movePage(p.mm, i, 2)
    runUntil(k, () => k.vmstat.get('numa_pte_updates') > 0, 5000)
    const marked = k.vmstat.get('numa_pte_updates')
    expect(marked).toBe(1024)
    const before = k.vmstat.get('numa_hint_faults')
    k.numab.store_mode(0)
    k.advance(120_000)
    expect(k.vmstat.get('numa_pte_updates')).toBe(marked)
    expect(k.vmstat.get('numa_hint_faults')).toBeGreaterThan(before + 500)
    expect(k.vmstat.get('numa_pages_migrated')).toBe(0)
  })

  it('a page left PROT_NONE keeps its first scan time (quirk protnone_keeps_first_time)', () => {
    for (const keep of [true, false]) {
      const k = boot({ numaBalancing: 2 })
      k.stopThread('kscand')
      k.numab.quirks.protnone_keeps_first_time = keep
      const p = k.exec({
        comm: 'cold',
        size: 4 * MiB,
        policy: { mode: 'local', cpu_node: 0 },
        workload: { pattern: 'idle' },
      })
      for (let i = 0; i < 1024; i++) k.movePage(p.mm, i, 2)
      runUntil(k, () => (k.numab.task(p)?.scans ?? 0) === 1, 5000)
      const first = k.numab.task(p)!.numab!.last_cpupid[0]
      runUntil(k, () => k.numab.task(p)!.scans === 3, 10000)
      const later = k.numab.task(p)!.numab!.last_cpupid[0]
      expect(later === first).toBe(keep)
    }
  })
})

describe('the mode-2 scan period', () => {
  /**
   * 16 MiB on CXL in 1 MiB windows, each page touched about once a second: some faults come
   * after their pass ended, and the slowest pages (latency ≥ 1 s) stay for later passes.
   */
  function periods(doubling: boolean): number[] {
    const k = boot({ numaBalancing: 2 })
    k.stopThread('kscand')
    k.numab.scan_size_mb = 1
    k.numab.quirks.scan_period_doubling = doubling
    const p = k.exec({
      comm: 'grow',
      size: 16 * MiB,
      policy: { mode: 'local', cpu_node: 0, mem_node: 2 },
      access_rate: 4096,
    })
    const task = k.numab.task(p)!
    const seen: number[] = []
    for (let t = 0; t < 40_000 && seen.length < 6; t++) {
      k.run(k.now + 1)
      if (seen.at(-1) !== task.numa_scan_period) seen.push(task.numa_scan_period)
    }
    return seen
  }

  it('doubles at each placement (promoted faults are private and remote, never local), up to task_scan_max', () => {
    // 16 windows: task_scan_start = max(1000 / (2560 / 1), 1000 / 16) = 62 ms; max 60000 / 16.
    expect(periods(true)).toEqual([1000, 62, 124, 248, 496, 992])
    expect(periods(false)).toEqual([1000, 62])
  })
})
