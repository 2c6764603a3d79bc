/**
 * mm registration and teardown (docs/spec/kscand-v3.md §7.2), prctl
 * (docs/spec/kscand-v3.md §6), and the quirk switches of docs/spec/kscand-v3.md §7.13
 * that change what users see.
 */
import { describe, expect, it } from 'vitest'
import {
  MiB,
  PAGE_SIZE,
  PR_GET_PTE_A_SCAN_SCALE,
  PR_SET_PTE_A_SCAN_SCALE,
} from '../../src/kernel/constants.ts'
import { allBut, boot, capture, fields, pagesConserved } from '../helpers/kernel.ts'

describe('fork, exec and exit', () => {
  it('registers every new mm at the tail with kmem_mm_enter; exit emits kmem_mm_exit and frees pages', () => {
    const k = boot()
    const trace = capture(k)
    const a = k.exec({ comm: 'a', size: 2 * MiB })
    const b = k.fork(a.pid)
    expect(b.parent).toBe(a.pid)
    expect(k.kscand.list().map((s) => s.mm)).toEqual([a.mm, b.mm])
    const enters = trace.named('kmem_mm_enter')
    expect(enters.map((e) => e.args[0])).toEqual([a.mm.id, b.mm.id])
    // kscand_fork() runs in the parent's context.
    expect(enters.map((e) => e.pid)).toEqual([a.pid, a.pid])
    k.exit(a.pid)
    expect(trace.named('kmem_mm_exit').map((e) => e.args[0])).toEqual([a.mm.id])
    expect(k.kscand.list().map((s) => s.mm)).toEqual([b.mm])
    expect(pagesConserved(k)).toBe(true)
    expect(() => k.process(a.pid)).toThrow(/no such process/)
  })

  it('a forked mm does not inherit the prctl scale (mm_init sets 8)', () => {
    const k = boot()
    const a = k.exec({ comm: 'a', size: 2 * MiB })
    k.prctl(a.pid, PR_SET_PTE_A_SCAN_SCALE, 3)
    const b = k.fork(a.pid)
    expect(k.prctl(b.pid, PR_GET_PTE_A_SCAN_SCALE)).toBe(8)
  })

  it('exit while kmigrated is draining that mm: the list is freed and kmigrated leaves it', () => {
    const k = boot()
    const p = k.exec({ comm: 'big', size: 32 * MiB, policy: { mode: 'bind', nodes: [2] } })
    while (k.kmigrated.kmigrated_cur_mm !== p.mm) k.run(k.now + 1, 1)
    const pending = k.processStats(p.pid).migration!.pending
    expect(pending).toBeGreaterThan(0)
    const attempts = k.vmstat.get('nr_kscand_migrated') + k.vmstat.get('nr_kscand_migrate_failed')
    k.exit(p.pid)
    expect(k.kmigrated.kmigrated_cur_mm).toBeNull()
    expect(k.kmigrated.kmigrated_clean_list).toBe(false)
    expect(k.kmigrated.slots).toHaveLength(0)
    expect(k.kmigrated.queued).toBe(0)
    k.run(k.now + 100)
    // No promotion was attempted after the exit.
    expect(k.vmstat.get('nr_kscand_migrated') + k.vmstat.get('nr_kscand_migrate_failed')).toBe(
      attempts,
    )
    expect(pagesConserved(k)).toBe(true)
  })

  it('exit of the mm kscand is parked on (is_scanned) is collected by kscand on its next visit', () => {
    const k = boot()
    const a = k.exec({ comm: 'a', size: 2 * MiB })
    const b = k.exec({ comm: 'b', size: 2 * MiB })
    k.kscand.store_mms_to_scan(1)
    k.run(1000)
    // One visit per cycle: find a moment where the scanner's current slot is b's.
    while (k.kscand.cur?.mm !== b.mm) k.run(k.now + 1)
    expect(k.kscand.cur.is_scanned).toBe(true)
    k.exit(b.pid)
    // Case 3: still listed until the scanner collects it.
    expect(k.kscand.list().map((s) => s.mm)).toEqual([a.mm, b.mm])
    k.run(k.now + 25)
    expect(k.kscand.list().map((s) => s.mm)).toEqual([a.mm])
  })

  it('exit while kscand is inside the mm waits for its scan to end (mmap_write_lock)', () => {
    // Slow PTEs: a 30720-page scan crosses cond_resched() points between its chunks.
    const k = boot({ costs: { pteNs: 1000 } })
    const p = k.exec({ comm: 'big', size: 120 * MiB, policy: { mode: 'bind', nodes: [2] } })
    const trace = capture(k, allBut('kmem_scan_mm_start'))
    while (k.kscand.scanning !== p.mm) k.run(k.now + 1, 1)
    expect(k.vmstat.get('nr_kscand_slowtier')).toBeLessThan(30720)
    k.exit(p.pid)
    expect(k.kscand.scanning).toBeNull()
    // The whole scan happened, then the mm went away.
    expect(k.vmstat.get('nr_kscand_mm_scans')).toBe(1)
    expect(k.vmstat.get('nr_kscand_slowtier')).toBe(30720)
    const names = trace.events.map((e) => e.id)
    expect(names.indexOf(trace.named('kmem_mm_exit')[0].id)).toBeLessThan(
      names.indexOf(trace.named('kmem_scan_mm_end')[0].id),
    )
    expect(pagesConserved(k)).toBe(true)
    k.run(k.now + 100)
    expect(k.kscand.list()).toHaveLength(0)
  })

  it('exit of the current slot before its first visit (case 2) restarts at the list head', () => {
    const k = boot({ autostart: false })
    const a = k.exec({ comm: 'a', size: 2 * MiB })
    const b = k.exec({ comm: 'b', size: 2 * MiB })
    k.kscand.cur = k.kscand.slotOf(b.mm)!
    k.exit(b.pid)
    expect(k.kscand.cur).toBeNull()
    expect(k.kscand.list().map((s) => s.mm)).toEqual([a.mm])
  })
})

describe('prctl PR_SET/GET_PTE_A_SCAN_SCALE (docs/spec/kscand-v3.md §6)', () => {
  it('clamps to 0..10 after the cast to unsigned int, and rejects stray arguments', () => {
    const k = boot()
    const p = k.exec({ comm: 'a', size: 2 * MiB })
    const get = () => k.prctl(p.pid, PR_GET_PTE_A_SCAN_SCALE)
    expect(get()).toBe(8)
    expect(k.prctl(p.pid, PR_SET_PTE_A_SCAN_SCALE, 99)).toBe(0)
    expect(get()).toBe(10)
    k.prctl(p.pid, PR_SET_PTE_A_SCAN_SCALE, 2n ** 32n + 3n) // upper bits truncated
    expect(get()).toBe(3)
    k.prctl(p.pid, PR_SET_PTE_A_SCAN_SCALE, -1) // (unsigned int)-1 → clamp → 10
    expect(get()).toBe(10)
    k.prctl(p.pid, PR_SET_PTE_A_SCAN_SCALE, 0)
    expect(get()).toBe(0)
    expect(() => k.prctl(p.pid, PR_SET_PTE_A_SCAN_SCALE, 5, 1)).toThrow(/arg3/)
    expect(() => k.prctl(p.pid, PR_GET_PTE_A_SCAN_SCALE, 1)).toThrow(/arg2/)
    expect(() => k.prctl(p.pid, 81)).toThrow(/unsupported/)
    expect(() => k.prctl(p.pid, PR_SET_PTE_A_SCAN_SCALE, 1.5)).toThrow(/integer/)
    expect(get()).toBe(0)
    expect(() => k.prctl(4242, PR_GET_PTE_A_SCAN_SCALE)).toThrow(/no such process/)
  })

  it('scale 0 skips the mm entirely: no kmem_scan_mm_start, no scan', () => {
    const k = boot()
    const p = k.exec({ comm: 'off', size: 2 * MiB })
    k.prctl(p.pid, PR_SET_PTE_A_SCAN_SCALE, 0)
    const trace = capture(k)
    k.run(10_000)
    expect(trace.named('kmem_scan_mm_start')).toHaveLength(0)
    expect(k.vmstat.get('nr_kscand_mm_scans')).toBe(0)
  })
})

describe('quirks (docs/spec/kscand-v3.md §7.13)', () => {
  /** Two CXL-resident mms with hot pages; who gets promoted? */
  function twoMms(sticky: boolean) {
    const k = boot({ quirks: { kmigrated_sticky_slot: sticky } })
    const a = k.exec({ comm: 'a', size: 4 * MiB, policy: { mode: 'bind', nodes: [2] } })
    const b = k.exec({ comm: 'b', size: 4 * MiB, policy: { mode: 'bind', nodes: [2] } })
    k.run(4000)
    return [k.processStats(a.pid).promoted, k.processStats(b.pid).promoted]
  }

  it('kmigrated_sticky_slot (faithful): only the first mm with a migration list is drained', () => {
    const [a, b] = twoMms(true)
    expect(a + b).toBe(1024)
    expect(Math.min(a, b)).toBe(0)
  })

  it('kmigrated_sticky_slot off: kmigrated goes round-robin over the mms', () => {
    expect(twoMms(false)).toEqual([1024, 1024])
  })

  function budgetScan(needsCandidates: boolean) {
    const k = boot({
      topology: {
        nodes: [
          { capacity: 4096 * MiB, cpus: true },
          { capacity: 1024 * MiB, cpus: false },
        ],
      },
      quirks: { scan_budget_needs_candidates: needsCandidates },
    })
    // An address space wider than the 1 GiB budget in which no VMA yields a candidate:
    // a DRAM-resident anonymous VMA, then hugetlb VMAs the filter skips, then another.
    const huge = Array.from({ length: 4 }, () => ({ kind: 'hugetlb' as const, size: 300 * MiB }))
    const p = k.exec({
      comm: 'wide',
      vmas: [{ kind: 'anon', size: 2 * MiB }, ...huge, { kind: 'anon', size: 2 * MiB }],
    })
    const trace = capture(k)
    k.run(2100)
    const end = fields(trace.named('kmem_scan_mm_end')[0])
    return { vmaScans: k.vmstat.get('nr_kscand_vma_scans'), start: end.start, vmas: p.mm.vmas }
  }

  it('scan_budget_needs_candidates (faithful): past the budget the loop goes on until a candidate', () => {
    const { vmaScans, start } = budgetScan(true)
    expect(vmaScans).toBe(6)
    expect(start).toBe(0)
  })

  it('scan_budget_needs_candidates off: the budget ends the scan, which resumes after it', () => {
    const { vmaScans, start, vmas } = budgetScan(false)
    // 2 MiB + 4 × 300 MiB crosses 1 GiB at the fifth VMA; the resume address is one page past
    // the last PTE walked — the end of the first VMA, since the hugetlb ones are not walked.
    expect(vmaScans).toBe(5)
    expect(start).toBe(vmas[0].end)
  })

  it('kmigrated_wait_returns_at_once (faithful): a cycle is msleep(20) = 21 jiffies; off: + kmigrate_sleep_ms', () => {
    for (const [quirk, cycles] of [
      [true, 48],
      [false, 25],
    ] as const) {
      const k = boot({ autostart: false, quirks: { kmigrated_wait_returns_at_once: quirk } })
      k.startThread('kmigrated')
      k.run(999)
      expect(k.thread('kmigrated').cycles).toBe(cycles)
    }
  })
})

describe('demotion', () => {
  it('kswapd demotes DRAM pages to the CXL node when DRAM falls under its low watermark', () => {
    const k = boot()
    const node0 = k.machine.nodes[0]
    const p = k.exec({
      comm: 'fill',
      size: (node0.pages - node0.wmarkMin) * PAGE_SIZE,
      policy: { mode: 'bind', nodes: [0] },
      workload: { pattern: 'idle' },
    })
    k.run(50)
    // The first-touch A bits and PG_young cost the clock two passes; then it demotes.
    expect(node0.free).toBeGreaterThanOrEqual(node0.wmarkPromo)
    expect(k.vmstat.get('pgdemote_kswapd')).toBeGreaterThan(0)
    expect(k.processStats(p.pid).pages_per_node[2]).toBe(k.vmstat.get('pgdemote_kswapd'))
    expect(pagesConserved(k)).toBe(true)
  })

  it('does nothing with demotion disabled', () => {
    const k = boot({ demotionEnabled: false })
    const node0 = k.machine.nodes[0]
    k.exec({
      comm: 'fill',
      size: (node0.pages - node0.wmarkMin) * PAGE_SIZE,
      policy: { mode: 'bind', nodes: [0] },
    })
    k.run(1000)
    expect(k.vmstat.get('pgdemote_kswapd')).toBe(0)
  })
})
