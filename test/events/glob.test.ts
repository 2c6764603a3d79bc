/**
 * Event-name globs: the matcher agrees with the textbook dynamic program on generated globs
 * and names, and the globs of issue 10 (`***?` repeated, which a backtracking regex takes
 * minutes over) are matched in microseconds.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { compileFilter, globMatches, matchGlob } from '../../src/events/filter.ts'
import { EVENTS } from '../../src/kernel/trace.ts'

/** dp[i][j]: glob[0, i) matches name[0, j). */
function reference(glob: string, name: string): boolean {
  let prev = [true, ...Array<boolean>(name.length).fill(false)]
  for (const c of glob) {
    const row = [c === '*' && prev[0]]
    for (let j = 1; j <= name.length; j++) {
      row[j] = c === '*' ? prev[j] || row[j - 1] : prev[j - 1] && (c === '?' || c === name[j - 1])
    }
    prev = row
  }
  return prev[name.length]
}

const WORST = '***?'.repeat(16)

describe('globMatches', () => {
  it('agrees with the dynamic program', () => {
    const alphabet = fc.constantFrom('a', 'b', '_', '*', '?')
    fc.assert(
      fc.property(
        fc.string({ unit: alphabet, maxLength: 12 }),
        fc.string({ unit: fc.constantFrom('a', 'b', '_'), maxLength: 12 }),
        (glob, name) => globMatches(glob, name) === reference(glob, name),
      ),
      { numRuns: 20_000 },
    )
  })

  it('matches the declared names as the globs say', () => {
    expect(matchGlob('kmem:*').length).toBe(EVENTS.filter((e) => e.system === 'kmem').length)
    expect(matchGlob('kthread_s*').map((i) => EVENTS[i].name)).toEqual([
      'kthread_start',
      'kthread_stop',
      'kthread_sleep',
    ])
    expect(matchGlob('*:kmem_scan_mm_?nd').map((i) => EVENTS[i].name)).toEqual(['kmem_scan_mm_end'])
    expect(() => matchGlob('kmem:nosuch')).toThrow(/matches no event/)
  })

  it('takes microseconds over the worst globs of issue 10', () => {
    const start = performance.now()
    const f = compileFilter({
      events: Array(32).fill(WORST),
      pids: null,
      format: 'json',
      batch_ms: 50,
    })
    const ms = performance.now() - start
    // At least 16 characters: the names that long.
    expect([...f.mask]).toEqual(EVENTS.map((e) => (e.name.length >= 16 ? 1 : 0)))
    expect(ms).toBeLessThan(100)
    expect(globMatches(`${WORST}x`, 'kmem_scan_mm_migrate')).toBe(false)
  })
})
