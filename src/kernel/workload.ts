/**
 * Access patterns. A workload gives every page of an mm an access rate (the ground truth) and
 * decides when each page is next accessed; kscand learns about those accesses only through
 * the PTE Accessed bit, exactly as the kernel does.
 */
import { PAGE_SIZE } from './constants.ts'
import { checkNumber, einval } from './errors.ts'
import type { AccessedPages } from './mm.ts'
import { Permutation } from './prng.ts'
import { quantizeLog2Rate, quantizeRate } from './rate.ts'
import type { WorkloadSpec } from './spec.ts'

const LINES_PER_PAGE = PAGE_SIZE / 64

export function validateWorkload(w: WorkloadSpec, access_rate: number): void {
  checkNumber('access_rate', access_rate, 0, 1e12)
  switch (w?.pattern) {
    case 'uniform':
    case 'sequential':
    case 'idle':
      return
    case 'zipf':
      checkNumber('workload.theta', w.theta, 1e-6, 10)
      if (w.theta <= 0) throw einval('workload.theta must be > 0')
      return
    case 'hotset':
      checkNumber('workload.hot_fraction', w.hot_fraction, 1e-9, 1)
      checkNumber('workload.hot_access_fraction', w.hot_access_fraction ?? 0.9, 0, 1)
      checkNumber('workload.shift_at_ms', w.shift_at_ms ?? 0, 0, 2 ** 31)
      checkNumber('workload.shift_fraction', w.shift_fraction ?? 1, 0, 1)
      return
    default:
      throw einval(`unknown workload pattern ${String((w as { pattern?: unknown })?.pattern)}`)
  }
}

/** ζ(n, θ) = Σ_{r=1..n} r^-θ: exact up to 10^5 terms, Euler–Maclaurin beyond. */
export function zeta(n: number, theta: number): number {
  const k = Math.min(n, 100_000)
  let s = 0
  for (let r = 1; r <= k; r++) s += r ** -theta
  if (n === k) return s
  const f = (x: number) => x ** -theta
  const df = (x: number) => -theta * x ** (-theta - 1)
  const integral =
    theta === 1 ? Math.log(n / k) : (n ** (1 - theta) - k ** (1 - theta)) / (1 - theta)
  return s - f(k) + integral + (f(k) + f(n)) / 2 + (df(n) - df(k)) / 12
}

/**
 * Fills `rateQ` for the accessed pages with the quantized per-page rate of the workload.
 * `phase` counts hot-set shifts that happened.
 */
export function assignRates(
  w: WorkloadSpec,
  access_rate: number,
  pages: AccessedPages,
  rateQ: Uint16Array,
  seed: number,
  phase: number,
): void {
  const n = pages.length
  if (n === 0) return
  switch (w.pattern) {
    case 'idle':
      for (let i = 0; i < n; i++) rateQ[pages.at(i)] = 0
      return
    case 'uniform':
    case 'sequential': {
      const q = quantizeRate(access_rate / n)
      for (let i = 0; i < n; i++) rateQ[pages.at(i)] = q
      return
    }
    case 'zipf': {
      const perm = new Permutation(n, seed)
      const base = Math.log2(access_rate / zeta(n, w.theta))
      for (let r = 0; r < n; r++) {
        rateQ[pages.at(perm.map(r))] = quantizeLog2Rate(base - w.theta * Math.log2(r + 1))
      }
      return
    }
    case 'hotset': {
      const hot = Math.max(1, Math.round(n * w.hot_fraction))
      const hotShare = w.hot_access_fraction ?? 0.9
      const cold = quantizeRate((access_rate * (1 - hotShare)) / n)
      const hotQ = quantizeRate((access_rate * hotShare) / hot + (access_rate * (1 - hotShare)) / n)
      for (let i = 0; i < n; i++) rateQ[pages.at(i)] = cold
      const moved = phase > 0 ? Math.round(hot * (w.shift_fraction ?? 1)) : 0
      // The first `moved` hot pages move by `hot` pages; the rest stay.
      for (let i = 0; i < hot; i++) rateQ[pages.at((i < moved ? i + hot : i) % n)] = hotQ
      return
    }
  }
}

/** Sweep period of a sequential workload over n pages, in ms (Infinity when idle). */
export function sweepPeriodMs(access_rate: number, n: number): number {
  return access_rate > 0 ? (n * LINES_PER_PAGE * 1000) / access_rate : Number.POSITIVE_INFINITY
}
