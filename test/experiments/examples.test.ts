/**
 * examples/*.yaml: each is a valid scenario, and the abench-like one under kscand finishes
 * in the time `npm run compare` gives for the same machine and policy.
 */
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { POLICIES, runPolicy } from '../../scripts/compare-promoters.ts'
import { loadScenario } from '../../src/experiments/load.ts'
import { runScenario } from '../../src/experiments/run.ts'
import { ROOT } from '../helpers/process.ts'

const EXAMPLES = join(ROOT, 'examples')
const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml'))

describe('examples/', () => {
  it('holds the demo, abench, cbench and sticky-slot scenarios', () => {
    expect(files.sort()).toEqual(['abench.yaml', 'cbench.yaml', 'demo.yaml', 'sticky-slot.yaml'])
  })

  it.each(files)('%s is a valid scenario', (f) => {
    expect(loadScenario(join(EXAMPLES, f)).name).toBe(f.replace('.yaml', ''))
  })

  it('abench.yaml finishes in the time npm run compare gives under kscand', () => {
    const { summary } = runScenario(loadScenario(join(EXAMPLES, 'abench.yaml')))
    const [compared] = runPolicy(join(EXAMPLES, 'abench.json'), POLICIES[1])
    expect(summary.ended).toBe('budgets_spent')
    expect((summary.processes[0].time_to_finish_ms as number) / 1000).toBe(compared.seconds)
  })
})
