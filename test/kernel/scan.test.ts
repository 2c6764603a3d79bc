/**
 * docs/spec/kscand-v3.md §7.4, §7.5, §7.7: one visit over a scripted address space — which VMAs
 * are walked, what each counter says afterwards, the resume address and the target-node
 * heuristic.
 */
import { describe, expect, it } from 'vitest'
import { PAGE_SIZE } from '../../src/kernel/constants.ts'
import { MMAP_BASE } from '../../src/kernel/mm.ts'
import type { VmaSpec } from '../../src/kernel/spec.ts'
import { boot, capture, fields } from '../helpers/kernel.ts'

const P = PAGE_SIZE

describe('VMA filter (docs/spec/kscand-v3.md §7.5)', () => {
  const layout: VmaSpec[] = [
    { kind: 'anon', size: 4 * P },
    { kind: 'file', size: 4 * P },
    { kind: 'file_ro', size: 4 * P },
    { kind: 'shared', size: 4 * P },
    { kind: 'mlocked', size: 4 * P },
    { kind: 'hugetlb', size: 4 * P },
    { kind: 'mixedmap', size: 4 * P },
    { kind: 'io', size: 4 * P },
    { kind: 'prot_none', size: 4 * P },
    { kind: 'anon', size: 4 * P, mbind: true },
  ]

  it('walks anon and writable file VMAs; counts every VMA; rejects shared and unevictable folios', () => {
    const k = boot()
    k.exec({ comm: 'layout', vmas: layout, policy: { mode: 'bind', nodes: [2] } })
    const trace = capture(k)
    k.run(2100)
    const v = k.vmstat.snapshot()
    expect(v.nr_kscand_mm_scans).toBe(1)
    // Every VMA is iterated, the skipped ones included.
    expect(v.nr_kscand_vma_scans).toBe(layout.length)
    // anon + file pages pass is_valid_folio(); shared and mlocked folios are walked but rejected.
    expect(v.nr_kscand_slowtier).toBe(8)
    // First scan: every page was faulted in (young) and never idle, so all 8 are hot.
    expect(v.nr_kscand_migadded).toBe(8)
    const end = fields(trace.named('kmem_scan_mm_end')[0])
    expect(end.total).toBe(8)
    expect(end.start).toBe(0) // the VMAs ran out: wrap to the start
  })
})

describe('counters on a scripted page table (docs/spec/kscand-v3.md §4.1)', () => {
  it('increments each counter where the spec says, through a scan and a kmigrated drain', () => {
    const k = boot()
    // Two VMAs: 6 pages on DRAM node 0, then 10 pages on CXL node 2.
    const q = k.exec({
      comm: 'script',
      vmas: [
        { kind: 'anon', size: 6 * P },
        { kind: 'anon', size: 10 * P },
      ],
      policy: { mode: 'bind', nodes: [0] },
      workload: { pattern: 'idle' },
    })
    const mm = q.mm
    // Move the second VMA's pages to the CXL node, as if they had been demoted.
    for (let i = 6; i < 16; i++) k.movePage(mm, i, 2)
    k.stopThread('kmigrated')
    k.run(2100) // scan 1: everything young from the fault → 10 slow pages hot
    let v = k.vmstat.snapshot()
    expect([v.nr_kscand_toptier, v.nr_kscand_slowtier, v.nr_kscand_migadded]).toEqual([6, 10, 10])
    expect([v.nr_kscand_idlepage, v.nr_kscand_coldpage]).toEqual([0, 0])
    // Between scans: slow pages 0–3 accessed again, 4–9 not.
    const slow = (j: number) => mm.vmas[1].start + j * P
    expect(k.inspectPage(q.pid, slow(0)).node).toBe(2)
    for (let j = 0; j < 4; j++) k.touch(q.pid, slow(j))
    const next = k.processStats(q.pid).scan!.next_scan
    k.run(next + 25) // scan 2
    v = k.vmstat.snapshot()
    expect(v.nr_kscand_mm_scans).toBe(2)
    expect(v.nr_kscand_vma_scans).toBe(4)
    expect([v.nr_kscand_toptier, v.nr_kscand_slowtier]).toEqual([12, 20])
    expect(v.nr_kscand_migadded).toBe(14)
    expect([v.nr_kscand_idlepage, v.nr_kscand_coldpage]).toEqual([6, 0])
    // kmigrated drains 14 entries: 10 from scan 1 (6 of those pages are idle now → not hot),
    // then 4 again from scan 2 (the same 4 pages, already promoted by then → PFN gone).
    k.startThread('kmigrated')
    k.run(k.now + 30)
    v = k.vmstat.snapshot()
    expect(v.nr_kscand_migrated).toBe(4)
    expect(v.nr_kscand_hotpage).toBe(4)
    expect(v.nr_kscand_migrate_failed).toBe(10)
    expect(v.pgpromote_success).toBe(4)
    expect(v.numa_pages_migrated).toBe(4)
    expect(v.pgmigrate_success).toBe(4)
    expect(k.processStats(q.pid).pages_per_node).toEqual([10, 0, 6])
    // Scan 3: pages 4–9 idle for the second time in a row → cold as well as idle.
    k.run(k.processStats(q.pid).scan!.next_scan + 25)
    v = k.vmstat.snapshot()
    expect([v.nr_kscand_idlepage, v.nr_kscand_coldpage]).toEqual([12, 6])
  })
})

describe('target node heuristic (docs/spec/kscand-v3.md §7.7)', () => {
  it('picks the top-tier node with the most accessed pages; ties go to the lowest id', () => {
    const k = boot()
    const p = k.exec({
      comm: 'tie',
      size: 12 * P,
      policy: { mode: 'interleave', nodes: [0, 1, 2] },
      workload: { pattern: 'idle' },
    })
    k.kscand.store_target_node(1)
    const trace = capture(k)
    k.run(2100)
    // 4 young pages on node 0 and 4 on node 1: a tie → node 0.
    expect(fields(trace.named('kmem_scan_mm_end')[0]).target_node).toBe(0)
    expect(k.processStats(p.pid).target_node).toBe(0)
  })

  it('follows the node with more accesses', () => {
    const k = boot()
    const p = k.exec({
      comm: 'more',
      size: 12 * P,
      policy: { mode: 'interleave', nodes: [0, 1, 2] },
      workload: { pattern: 'idle' },
    })
    // Page 0 is on node 0 (interleave order 0,1,2,0,…): make it look never accessed.
    k.setPage(p.pid, MMAP_BASE, { accessed: false, young: false })
    const trace = capture(k)
    k.run(2100)
    expect(fields(trace.named('kmem_scan_mm_end')[0]).target_node).toBe(1)
  })

  it('falls back to the sysfs target_node when no top-tier page was accessed', () => {
    const k = boot()
    k.exec({ comm: 'cxl', size: 8 * P, policy: { mode: 'bind', nodes: [2] } })
    k.kscand.store_target_node(1)
    const trace = capture(k)
    k.run(2100)
    expect(fields(trace.named('kmem_scan_mm_end')[0]).target_node).toBe(1)
  })

  it('rejects a target_node that is not top tier, changing nothing', () => {
    const k = boot()
    expect(() => k.kscand.store_target_node(2)).toThrow(/not a top-tier node/)
    expect(() => k.kscand.store_target_node(-1)).toThrow()
    expect(() => k.kscand.store_target_node(64)).toThrow()
    expect(k.kscand.target_node).toBe(0)
  })
})
