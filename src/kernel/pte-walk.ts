/**
 * hot_vma_idle_pte_entry() (docs/spec/kscand-v3.md §7.6) applied to a run of PTEs. A
 * module-level function over typed arrays only, so the JIT compiles one tight loop: it is the
 * simulation's hot path.
 */
import { nextAccessAfter } from './access.ts'
import type { MmStruct } from './mm.ts'
import * as mmConst from './mm.ts'
import * as rate from './rate.ts'

// Module-local copies of the imported constants, as in numa-balancing.ts: imported bindings
// are read through the module loader's getters in some hosts (tsx), which slowed the loop
// (BENCHMARKS.md). The random state is an int32 from the start, as the loop keeps it.
const PG_IDLE = mmConst.PG_IDLE
const PG_INVALID = mmConst.PG_INVALID
const PG_LRU = mmConst.PG_LRU
const PG_REFERENCED = mmConst.PG_REFERENCED
const PG_YOUNG = mmConst.PG_YOUNG
const EXP1 = rate.EXP1
const EXP1_SHIFT = rate.EXP1_SHIFT
const MEAN_GAP_MS = rate.MEAN_GAP_MS
const NEVER = rate.NEVER

/** Indices into the `out` array of walkPtes(). */
export const W_VISITED = 0
export const W_TOP = 1
export const W_SLOW = 2
export const W_IDLE = 3
export const W_COLD = 4
export const W_QUEUED = 5
export const W_QUEUED_HOT = 6
export const W_HOT_SEEN = 7
export const W_NR_TO_SCAN = 8
/** Slow-tier pages judged hot: Σ nodeinfo[nid].nr_accessed over non-top-tier nodes. */
export const W_SLOW_ACCESSED = 9
export const W_SLOTS = 10

/**
 * Walks PTEs [first, end) of `mm`: test-and-clear of the Accessed bit with the PG_idle /
 * PG_young bookkeeping, accessed counts, and the slow-tier hot rule. Of the kernel's per-node
 * counts only what V3 reads is kept: nr_accessed per top-tier node (the target-node
 * heuristic) and its sum over the slow tier (the scan's `total`); nr_scanned is never read. Hot
 * pages are appended to `qPage`/`qNid` from `qLen` on, at most `canQueue` of them (the
 * caller guarantees room for end − first). `out[W_NR_TO_SCAN]` carries nr_to_scan in and
 * out; the walk stops after the PTE that takes it to 0. Counters land in `out`.
 */
export function walkPtes(
  mm: MmStruct,
  first: number,
  end: number,
  nowRel: number,
  toptier: Uint8Array,
  hotQ: number,
  topAccessed: Float64Array,
  qPage: Uint32Array,
  qNid: Uint8Array,
  qLen: number,
  canQueue: number,
  out: Float64Array,
): void {
  const node = mm.node
  const flags = mm.flags
  const rateQ = mm.rateQ
  const nextAccess = mm.nextAccess
  const poisson = mm.sweepMs === 0
  const exp1 = EXP1
  const gap = MEAN_GAP_MS
  let rng = mm.rng[0] | 0
  let nrToScan = out[W_NR_TO_SCAN]
  let top = 0
  let slow = 0
  let idle = 0
  let cold = 0
  let queued = 0
  let queuedHot = 0
  let hotSeen = 0
  let slowAccessed = 0
  let i = first
  for (; i < end; i++) {
    let f = flags[i]
    if (f & PG_INVALID) continue // is_valid_folio()
    const nd = node[i]
    const q = rateQ[i]
    const prevIdle = f & PG_IDLE
    // folio_set_idle(); ptep_clear_young_notify(): if young, folio_clear_idle + set_young.
    if (nextAccess[i] <= nowRel) {
      f = (f & ~PG_IDLE) | PG_YOUNG
      if (poisson) {
        // nextAccessAfter()'s Poisson draw with the generator state kept in a local.
        rng = (Math.imul(rng, 1664525) + 1013904223) | 0
        const next = nowRel + Math.ceil(exp1[rng >>> EXP1_SHIFT] * gap[q])
        nextAccess[i] = Math.min(next, NEVER)
      } else {
        nextAccess[i] = nextAccessAfter(mm, i, nowRel)
      }
    } else {
      f |= PG_IDLE
    }
    flags[i] = f
    if (--nrToScan === 0) {
      i++
      break
    }
    if (!(f & PG_LRU)) continue
    if (toptier[nd]) {
      top++
      // folio_test_young() || folio_test_referenced() || pte_young(): a set A bit set PG_young.
      if (f & (PG_YOUNG | PG_REFERENCED)) topAccessed[nd]++
      continue
    }
    slow++
    const trulyHot = q >= hotQ
    if (trulyHot) hotSeen++
    if (!(f & PG_IDLE) && !prevIdle && f & (PG_YOUNG | PG_REFERENCED)) {
      slowAccessed++
      // kzalloc(GFP_NOWAIT) of a kscand_migrate_info; failure just skips the page.
      if (queued < canQueue) {
        qPage[qLen + queued] = i
        qNid[qLen + queued] = nd
        queued++
        if (trulyHot) queuedHot++
      }
    } else {
      if (prevIdle) cold++
      idle++
    }
  }
  mm.rng[0] = rng
  out[W_VISITED] = i - first
  out[W_TOP] = top
  out[W_SLOW] = slow
  out[W_IDLE] = idle
  out[W_COLD] = cold
  out[W_QUEUED] = queued
  out[W_QUEUED_HOT] = queuedHot
  out[W_HOT_SEEN] = hotSeen
  out[W_NR_TO_SCAN] = nrToScan
  out[W_SLOW_ACCESSED] = slowAccessed
}
