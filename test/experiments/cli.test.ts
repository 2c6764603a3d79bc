/**
 * The `kscand-sim` command from a checkout (bin/kscand-sim.js, no build step): `run` writes
 * the outputs into --out with plain progress lines when stderr is not a terminal, a bad
 * scenario is one line and exit code 2, and everything else still reaches the daemon.
 */
import { execFile } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { VERSION } from '../../src/daemon/version.ts'
import { progressFigures, runCommand } from '../../src/experiments/cli.ts'
import { MiB } from '../../src/kernel/constants.ts'
import { SMALL } from '../helpers/kernel.ts'
import { ROOT, tempDirs } from '../helpers/process.ts'

const dir = tempDirs()
const BIN = join(ROOT, 'bin/kscand-sim.js')

async function kscandSim(args: string[], cwd: string) {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...args], {
      cwd,
      timeout: 60_000,
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
    })
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string }
    return { code: e.code, stdout: e.stdout, stderr: e.stderr }
  }
}

const TINY = `
name: tiny
machine:
  topology: ${JSON.stringify(SMALL)}
  processes:
    - { comm: app, size: ${8 * MiB}, workload: { pattern: zipf, theta: 0.99 } }
timeline:
  - { at_ms: 1000, do: write, path: /sys/kernel/mm/kscand/scan_sleep_ms, value: 40 }
duration_ms: 4000
record: { series_interval_ms: 1000, trace: { events: [sysfs:sysfs_write] } }
`

describe('kscand-sim run', () => {
  it('writes summary.json, series.csv and the trace into --out', async () => {
    const cwd = dir()
    writeFileSync(join(cwd, 'tiny.yaml'), TINY)
    const r = await kscandSim(['run', 'tiny.yaml', '--out', 'results'], cwd)
    expect(r.stderr).not.toContain('\r')
    expect(r.code, r.stderr).toBe(0)
    const lines = r.stderr.trimEnd().split('\n')
    expect(lines[0]).toBe('kscand-sim run: tiny: seed 42, up to 4.0 s virtual')
    expect(lines.at(-1)).toMatch(
      /^kscand-sim run: tiny: 4\.0 \/ 4\.0 s virtual {2}\d+× real {2}done$/,
    )
    expect(r.stdout).toContain(
      'wrote results/summary.json\nwrote results/series.csv\nwrote results/trace.txt\n',
    )
    const summary = JSON.parse(readFileSync(join(cwd, 'results/summary.json'), 'utf8'))
    expect(summary).toMatchObject({
      scenario: 'tiny',
      seed: 42,
      ended: 'duration',
      virtual_ms: 4000,
    })
    expect(summary.processes.map((p: { comm: string }) => p.comm)).toEqual(['app'])
    expect(
      readFileSync(join(cwd, 'results/series.csv'), 'utf8').trimEnd().split('\n'),
    ).toHaveLength(6)
    expect(readFileSync(join(cwd, 'results/trace.txt'), 'utf8')).toMatch(
      /^ +http-0 +\[000\] \.{5} +1\.000000: sysfs_write: path=\/sys\/kernel\/mm\/kscand\/scan_sleep_ms old=\d+ new=40\n$/,
    )
  })

  it('writes into kscand-sim-out/NAME by default', async () => {
    const cwd = dir()
    writeFileSync(join(cwd, 'tiny.yaml'), TINY.replace('duration_ms: 4000', 'duration_ms: 1000'))
    const r = await kscandSim(['run', 'tiny.yaml'], cwd)
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain('wrote kscand-sim-out/tiny/summary.json\n')
  })

  it('reports a bad scenario in one line, exit code 2', async () => {
    const cwd = dir()
    writeFileSync(
      join(cwd, 'bad.yaml'),
      'duration_ms: 1000\nmachine: { processes: [{ comm: a }] }\n',
    )
    const r = await kscandSim(['run', 'bad.yaml'], cwd)
    expect(r.code).toBe(2)
    expect(r.stderr).toBe(
      'kscand-sim run: bad.yaml: machine.processes[0]: give either size or vmas\n',
    )
    const usage = await kscandSim(['run'], cwd)
    expect(usage.code).toBe(2)
    expect(usage.stderr).toContain('Usage: kscand-sim run SCENARIO.yaml [--out DIR]')
  })

  it('leaves every other command to the daemon', async () => {
    const r = await kscandSim(['--version'], dir())
    expect(r).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: '' })
  })

  it('redraws one progress line on a terminal', async () => {
    const cwd = dir()
    writeFileSync(join(cwd, 'tiny.yaml'), TINY)
    let err = ''
    const code = await runCommand(['tiny.yaml', '--out', 'o'], {
      cwd,
      stdout: { write: () => true },
      stderr: { isTTY: true, write: (s: string) => (err += s) },
    })
    expect(code).toBe(0)
    const [first, ...redraws] = err.split('\r')
    expect(first).toBe('kscand-sim run: tiny: seed 42, up to 4.0 s virtual\n')
    const last = redraws.at(-1) as string
    expect(last.endsWith('done\x1b[K\n'), last).toBe(true)
    expect(last).toMatch(/^\[#{24}\] 4\.0 \/ 4\.0 s virtual {2}\d+× real {2}done/)
    for (const r of redraws.slice(0, -1)) expect(r).not.toContain('\n')
  })

  it('shows virtual time, speed and ETA in a progress line', () => {
    const p = { now_ms: 300_000, end_ms: 600_000, wall_ms: 1000, done: false, open_ended: false }
    expect(progressFigures(p)).toBe('300.0 / 600.0 s virtual  300× real  ETA 1.0 s')
    expect(progressFigures({ ...p, open_ended: true, end_ms: 3_600_000 })).toBe(
      '300.0 s virtual (until budgets are spent, at most 3600.0 s)  300× real',
    )
  })
})
