/**
 * docs/spec/kscand-v3.md §7.6: the per-PTE rule. For every combination of the PTE Accessed
 * bit, PG_idle left by the previous scan (prev_idle) and PG_young / PG_referenced, one scan of a
 * one-page process must count and queue exactly as hot_vma_idle_pte_entry() does.
 */
import { describe, expect, it } from 'vitest'
import { MMAP_BASE } from '../../src/kernel/mm.ts'
import { boot, capture, fields } from '../helpers/kernel.ts'

const combos = [false, true].flatMap((accessed) =>
  [false, true].flatMap((prevIdle) =>
    [false, true].flatMap((young) =>
      [false, true].map((referenced) => ({ accessed, prevIdle, young, referenced })),
    ),
  ),
)

function scanOnePage(node: number, state: (typeof combos)[number]) {
  const k = boot()
  k.kscand.store_target_node(1)
  const p = k.exec({
    comm: 'one',
    size: 4096,
    policy: { mode: 'bind', nodes: [node] },
    workload: { pattern: 'idle' },
  })
  k.stopThread('kmigrated')
  k.run(1000)
  k.setPage(p.pid, MMAP_BASE, {
    accessed: state.accessed,
    idle: state.prevIdle,
    young: state.young,
    referenced: state.referenced,
  })
  const trace = capture(k)
  k.run(2100) // the first scan is due at 2 × scan_delay = 2000 ms
  expect(k.vmstat.get('nr_kscand_mm_scans')).toBe(1)
  return { k, p, end: fields(trace.named('kmem_scan_mm_end')[0]) }
}

describe('slow-tier PTE: hot iff accessed now and not idle before (second access)', () => {
  for (const c of combos) {
    const hot = c.accessed && !c.prevIdle
    it(`A=${+c.accessed} prev_idle=${+c.prevIdle} young=${+c.young} referenced=${+c.referenced} → ${hot ? 'queued' : 'not queued'}`, () => {
      const { k, p, end } = scanOnePage(2, c)
      const v = k.vmstat.snapshot()
      expect(v.nr_kscand_slowtier).toBe(1)
      expect(v.nr_kscand_toptier).toBe(0)
      expect(v.nr_kscand_migadded).toBe(hot ? 1 : 0)
      expect(v.nr_kscand_idlepage).toBe(hot ? 0 : 1)
      expect(v.nr_kscand_coldpage).toBe(!hot && c.prevIdle ? 1 : 0)
      expect(end.total).toBe(hot ? 1 : 0)
      expect(k.processStats(p.pid).migration?.pending ?? 0).toBe(hot ? 1 : 0)
      // After the test-and-clear: idle unless the A bit was set, young if it was (or already).
      const page = k.inspectPage(p.pid, MMAP_BASE)
      expect(page.accessed).toBe(false)
      expect(page.idle).toBe(!c.accessed)
      expect(page.young).toBe(c.young || c.accessed)
      expect(page.referenced).toBe(c.referenced)
    })
  }
})

describe('top-tier PTE: counted for the target node when young, referenced or accessed', () => {
  for (const c of combos) {
    const counted = c.accessed || c.young || c.referenced
    it(`A=${+c.accessed} prev_idle=${+c.prevIdle} young=${+c.young} referenced=${+c.referenced} → ${counted ? 'node 0' : 'fallback node 1'}`, () => {
      const { k, end } = scanOnePage(0, c)
      const v = k.vmstat.snapshot()
      expect(v.nr_kscand_toptier).toBe(1)
      expect(v.nr_kscand_slowtier).toBe(0)
      expect(v.nr_kscand_migadded).toBe(0)
      expect(v.nr_kscand_idlepage).toBe(0)
      expect(end.total).toBe(0)
      expect(end.target_node).toBe(counted ? 0 : 1)
    })
  }
})

describe('a page that is not on the LRU', () => {
  it('is counted as scanned on its node but neither top nor slow tier, and never queued', () => {
    const k = boot()
    const p = k.exec({ comm: 'nolru', size: 4096, policy: { mode: 'bind', nodes: [2] } })
    k.setPage(p.pid, MMAP_BASE, { lru: false, accessed: true })
    k.run(2100)
    const v = k.vmstat.snapshot()
    expect(v.nr_kscand_mm_scans).toBe(1)
    expect(v.nr_kscand_slowtier + v.nr_kscand_toptier + v.nr_kscand_migadded).toBe(0)
  })
})
