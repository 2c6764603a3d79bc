/** The example machines load as CONFIG_FILE takes them, and npm run compare runs them. */
import { describe, expect, it } from 'vitest'
import { POLICIES, runPolicy } from '../../scripts/compare-promoters.ts'
import { loadMachineConfig } from '../../src/daemon/config.ts'

describe('examples and npm run compare', () => {
  it.each([['examples/abench.json'], ['examples/cbench.json']])(
    '%s is a valid config file',
    (path) => {
      const m = loadMachineConfig(path)
      expect(m.processes.some((p) => p.closed_loop)).toBe(true)
    },
  )

  it('abench without a promoter takes accesses × (think + CXL latency) / threads', () => {
    const [r] = runPolicy('examples/abench.json', POLICIES[3])
    expect(r).toMatchObject({ policy: 'none', comm: 'abench', promoted: 0, hintFaults: 0 })
    expect(r.seconds).toBeCloseTo((134217728 * (1000 + 3000)) / 64 / 1e9, 6)
  })
})
