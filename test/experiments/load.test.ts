/**
 * Scenario files: YAML and JSON read into the one schema, every mistake reported as one line
 * naming the file, the key path and the problem, and docs/scenario.schema.json kept equal
 * to what `npm run scenario-schema` generates.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { SCENARIO_SCHEMA_PATH, scenarioSchema } from '../../scripts/scenario-schema.ts'
import { loadScenario, parseScenario } from '../../src/experiments/load.ts'
import { thrownMessage } from '../helpers/process.ts'

const dir = mkdtempSync(join(tmpdir(), 'kscand-sim-scenario-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function file(name: string, text: string): string {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

const error = thrownMessage

const YAML = `
seed: 7
machine:
  processes:
    - comm: app
      size: 1048576
      workload: { pattern: zipf, theta: 0.9 }
      access_rate: 1000
timeline:
  - { at_ms: 2000, do: write, path: /sys/kernel/mm/kscand/scan_sleep_ms, value: 100 }
  - { at_ms: 3000, do: stop, thread: kmigrated }
duration_ms: 5000
record: { series_interval_ms: 500, trace: { format: json, events: [kmem:kmem_scan_mm_end] } }
`

describe('loading a scenario', () => {
  it('reads YAML, fills the defaults and names the run after the file', () => {
    const s = loadScenario(file('small-run.yaml', YAML))
    expect(s.name).toBe('small-run')
    expect(s.seed).toBe(7)
    expect(s.machine.processes?.[0].comm).toBe('app')
    expect(s.timeline.map((c) => c.do)).toEqual(['write', 'stop'])
    expect(s.limit_ms).toBe(3_600_000)
    expect(s.record).toEqual({
      series_interval_ms: 500,
      trace: { format: 'json', events: ['kmem:kmem_scan_mm_end'] },
    })
  })

  it('reads JSON, and an empty machine means the demo machine with the defaults', () => {
    const s = loadScenario(file('x.json', '{"name": "demo-10min", "duration_ms": 600000}'))
    expect(s).toMatchObject({
      name: 'demo-10min',
      seed: 42,
      machine: {},
      timeline: [],
      record: { series_interval_ms: 1000 },
    })
    expect(s.record.trace).toBeUndefined()
  })

  it.each([
    [
      'a wrong type deep inside',
      'duration_ms: 1000\nmachine:\n  processes:\n    - { comm: a, size: 4096 }\n    - { comm: b, size: 4096, access_rate: fast }\n',
      'bad.yaml: machine.processes[1].access_rate: Invalid input: expected number, received string',
    ],
    [
      'an unknown key',
      'duration_ms: 1000\nrecrod: {}\n',
      'bad.yaml: (top level): Unrecognized key: "recrod"',
    ],
    [
      'an unknown command',
      'duration_ms: 1000\ntimeline:\n  - { at_ms: 1, do: reboot }\n',
      "bad.yaml: timeline[0].do: Invalid discriminator value. Expected 'write' | 'prctl' | 'start' | 'stop' | 'spawn' | 'fork' | 'exit' | 'shift' | 'note'",
    ],
    [
      'a command after the end',
      'duration_ms: 1000\ntimeline:\n  - { at_ms: 1001, do: stop, thread: kscand }\n',
      'bad.yaml: timeline[0].at_ms: 1001 is after the end of the run (1000 ms)',
    ],
    ['no duration', 'seed: 1\n', 'bad.yaml: duration_ms: Invalid input'],
    [
      'an event that does not exist',
      'duration_ms: 10\nrecord: { trace: { events: [kmem:nope] } }\n',
      'bad.yaml: record.trace.events[0]: Invalid option: expected one of',
    ],
    ['YAML that does not parse', 'duration_ms: [1\n', 'bad.yaml: not YAML: '],
    ['not an object', '- 1\n', 'bad.yaml: (top level): Invalid input: expected object'],
  ])('%s is one line naming the key path', (_what, text, message) => {
    const m = error(() => parseScenario(text, 'bad.yaml'))
    expect(m.startsWith(message), m).toBe(true)
    expect(m).not.toContain('\n')
  })

  it('says what is wrong with the file itself', () => {
    expect(error(() => loadScenario(join(dir, 'missing.yaml')))).toBe(
      `${join(dir, 'missing.yaml')}: cannot read it: ENOENT`,
    )
    expect(error(() => loadScenario(dir))).toBe(`${dir}: not a regular file`)
    const json = file('broken.json', '{"duration_ms": ')
    expect(error(() => loadScenario(json))).toMatch(/broken\.json: not JSON: /)
  })
})

describe('a machine file', () => {
  it('is read relative to the scenario, as CONFIG_FILE takes it', () => {
    file('m.json', JSON.stringify({ processes: [{ comm: 'one', size: 4096 }] }))
    const s = loadScenario(file('uses-m.yaml', 'machine_file: m.json\nduration_ms: 10\n'))
    expect(s.machine).toEqual({ processes: [{ comm: 'one', size: 4096 }] })
  })

  it('names the machine file in its errors', () => {
    file('bad-m.json', JSON.stringify({ processes: [{ comm: 'one' }] }))
    const bad = file('uses-bad-m.yaml', 'machine_file: bad-m.json\nduration_ms: 10\n')
    expect(error(() => loadScenario(bad, 'uses-bad-m.yaml'))).toBe(
      'uses-bad-m.yaml: machine_file bad-m.json: processes[0]: give either size or vmas',
    )
    const both = 'machine_file: m.json\nmachine: {}\nduration_ms: 10\n'
    expect(error(() => parseScenario(both, 'x.yaml'))).toBe(
      'x.yaml: machine_file: give machine or machine_file, not both',
    )
  })
})

describe('docs/scenario.schema.json', () => {
  it('is what npm run scenario-schema generates', () => {
    expect(readFileSync(SCENARIO_SCHEMA_PATH, 'utf8')).toBe(scenarioSchema())
  })
})
