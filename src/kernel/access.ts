/**
 * When a page is next accessed. Called whenever its Accessed bit is cleared (by kscand's
 * ptep_clear_young_notify or reclaim's folio_referenced): the next access after `nowRel` is
 * drawn from the page's Poisson process (memoryless, so redrawing is exact) or, for a
 * sequential sweep, is the next pass over the page.
 */
import type { MmStruct } from './mm.ts'
import * as rate from './rate.ts'

// Module-local copies, as in pte-walk.ts: reclaim and promotions call this per page.
const EXP1 = rate.EXP1
const EXP1_SHIFT = rate.EXP1_SHIFT
const MEAN_GAP_MS = rate.MEAN_GAP_MS
const NEVER = rate.NEVER

export function nextAccessAfter(mm: MmStruct, i: number, nowRel: number): number {
  let next: number
  if (mm.sweepMs === 0) {
    // One step of a 32-bit LCG (Numerical Recipes constants); its top 12 bits pick an Exp(1)
    // quantile. pte-walk.ts inlines the same step.
    const a = (Math.imul(mm.rng[0], 1664525) + 1013904223) | 0
    mm.rng[0] = a
    next = nowRel + Math.ceil(EXP1[a >>> EXP1_SHIFT] * MEAN_GAP_MS[mm.rateQ[i]])
  } else {
    const period = mm.sweepMs
    if (period === Number.POSITIVE_INFINITY) return NEVER
    const phase = mm.sweepStartRel + (i * period) / mm.nrPages
    next = Math.ceil(phase + (Math.floor((nowRel - phase) / period) + 1) * period)
  }
  return Math.min(next, NEVER)
}
