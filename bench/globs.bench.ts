/**
 * Event-glob matching (issue 10): what compiling a subscription costs with the worst glob
 * the protocol admits (`***?` x 16, 64 characters, which a backtracking regex took 68.5 s
 * over), against a literal event name in the same run; and compiling a whole worst
 * subscription (32 such globs) against 32 literals. Best of ROUNDS, each timing REPS compilations.
 */
import { compileFilter, globMatches } from '../src/events/filter.ts'
import { MAX_GLOBS } from '../src/events/protocol.ts'
import { EVENTS } from '../src/kernel/trace.ts'
import type { BenchRow, BenchSuite } from './table.ts'

const WORST = '***?'.repeat(16)
const LITERAL = 'kmem:kmem_scan_mm_migrate'
const NAME = 'kmem_scan_mm_migrate'
const REPS = 2000
const ROUNDS = 7

/** Best µs per call of `f`. */
function best(f: () => void): number {
  let min = Number.POSITIVE_INFINITY
  for (let r = 0; r < ROUNDS; r++) {
    const start = performance.now()
    for (let i = 0; i < REPS; i++) f()
    min = Math.min(min, ((performance.now() - start) * 1000) / REPS)
  }
  return min
}

/** Matching one name glob against every declared event name. */
const matching = (glob: string) => () => {
  for (const e of EVENTS) globMatches(glob, e.name)
}

/** Compiling a subscription to `events` (validation, matching, the filter's mask and key). */
const compiling = (events: readonly string[]) => () => {
  compileFilter({ events, pids: null, format: 'json', batch_ms: 50 })
}

export const globsSuite: BenchSuite = async () => {
  const literal = best(matching(NAME))
  const worst = best(matching(WORST))
  const literals = best(compiling(Array(MAX_GLOBS).fill(LITERAL)))
  const worsts = best(compiling(Array(MAX_GLOBS).fill(WORST)))
  const rows: BenchRow[] = [
    {
      name: 'globs: match the worst glob (***? x 16) against every event name',
      value: worst,
      unit: 'µs',
      baseline: { name: 'a literal name', value: literal },
      target: 'linear: < 1 ms (a regex: 68.5 s for 31)',
      pass: worst < 1000,
    },
    {
      name: `globs: compile a subscription of ${MAX_GLOBS} worst globs`,
      value: worsts,
      unit: 'µs',
      baseline: { name: `${MAX_GLOBS} literal names`, value: literals },
      target: '< 10 ms',
      pass: worsts < 10_000,
    },
  ]
  return rows
}
