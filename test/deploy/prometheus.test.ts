/**
 * deploy/prometheus with promtool: the configuration and the rules load, and the rules' unit
 * tests (deploy/prometheus/tests/*.yml: per-virtual-second rates at SPEED=10, each alert
 * firing and staying quiet) pass.
 */
import { spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ROOT } from '../helpers/process.ts'

const DIR = join(ROOT, 'deploy/prometheus')

function promtool(...args: string[]) {
  const which = spawnSync('sh', ['-c', 'command -v promtool'])
  if (which.status !== 0) {
    throw new Error('promtool is missing: npm test installs it (scripts/test-tools.sh)')
  }
  const r = spawnSync('promtool', args, { cwd: DIR, encoding: 'utf8', timeout: 30_000 })
  return { status: r.status, output: r.stdout + r.stderr }
}

describe('deploy/prometheus', () => {
  it('passes promtool check rules', () => {
    const r = promtool('check', 'rules', 'kscand-sim.rules.yml')
    expect(r.output).toContain('SUCCESS')
    expect(r.status, r.output).toBe(0)
  })

  it('passes promtool check config, rule files included', () => {
    const r = promtool('check', 'config', 'prometheus.yml')
    expect(r.output).toContain('SUCCESS: 1 rule files found')
    expect(r.status, r.output).toBe(0)
  })

  it('passes promtool test rules', () => {
    const tests = readdirSync(join(DIR, 'tests')).filter((f) => f.endsWith('.yml'))
    expect(tests.length).toBeGreaterThan(0)
    const r = promtool('test', 'rules', ...tests.map((f) => join('tests', f)))
    expect(r.output).not.toContain('FAILED')
    expect(r.status, r.output).toBe(0)
  })
})
