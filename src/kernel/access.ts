/**
 * When a page is next accessed. Called whenever its Accessed bit is cleared (by kscand's
 * ptep_clear_young_notify or reclaim's folio_referenced): the next access after `nowRel` is
 * drawn from the page's Poisson process (memoryless, so redrawing is exact) or, for a
 * sequential sweep, is the next pass over the page.
 */
import type { MmStruct } from './mm.ts'
import { EXP1, MEAN_GAP_MS, NEVER } from './rate.ts'

export function nextAccessAfter(mm: MmStruct, i: number, nowRel: number): number {
  let next: number
  if (mm.sweepMs === 0) {
    // mulberry32, inlined so the PTE loop stays allocation- and call-free.
    const a = (mm.rng[0] + 0x6d2b79f5) | 0
    mm.rng[0] = a
    let x = Math.imul(a ^ (a >>> 15), 1 | a)
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
    next = nowRel + Math.ceil(EXP1[(x ^ (x >>> 14)) & 0xffff] * MEAN_GAP_MS[mm.rateQ[i]])
  } else {
    const period = mm.sweepMs
    if (period === Number.POSITIVE_INFINITY) return NEVER
    const phase = mm.sweepStartRel + (i * period) / mm.nrPages
    next = Math.ceil(phase + (Math.floor((nowRel - phase) / period) + 1) * period)
  }
  return Math.min(next, NEVER)
}
