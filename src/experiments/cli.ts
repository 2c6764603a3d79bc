/**
 * `kscand-sim run SCENARIO [--out DIR]`: runs a scenario headless and writes its outputs
 * (docs/experiments.md). On a terminal, stderr carries one progress line redrawn in place
 * (virtual time done / total, speed over real time, ETA); otherwise a plain line every few
 * seconds. A bad scenario, or a command the kernel refuses, is one line and exit code 2.
 */
import { join, relative, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { loadScenario, ScenarioError } from './load.ts'
import { endOf, type Progress, runInto } from './run.ts'

export const USAGE = 'Usage: kscand-sim run SCENARIO.yaml [--out DIR]\n'

/** Exit codes, as the daemon's (src/daemon/shutdown.ts): 2 is a bad command line or file. */
const EXIT_FAILED = 1
const EXIT_CONFIG = 2
/** Wall ms between two plain progress lines. */
const PLAIN_EVERY_MS = 2000
const BAR = 24

export interface CliIo {
  readonly stdout: { write(s: string): unknown }
  readonly stderr: { write(s: string): unknown; isTTY?: boolean }
  readonly cwd: string
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`

/**
 * The figures of a progress report: `312.0 / 600.0 s virtual  287× real  ETA 1.0 s`, or for
 * a run until every budget is spent (no ETA: its end is not known)
 * `6.0 s virtual (until budgets are spent, at most 3600.0 s)  7× real`.
 */
export function progressFigures(p: Progress): string {
  const speed = p.wall_ms > 0 ? p.now_ms / p.wall_ms : 0
  const speedText = `${speed.toFixed(0)}× real`
  const now = (p.now_ms / 1000).toFixed(1)
  if (p.open_ended) {
    const limit = `until budgets are spent, at most ${seconds(p.end_ms)}`
    return `${now} s virtual (${limit})  ${speedText}${p.done ? '  done' : ''}`
  }
  const eta = speed > 0 ? (p.end_ms - p.now_ms) / speed : Number.NaN
  const etaText = p.done ? 'done' : Number.isFinite(eta) ? `ETA ${seconds(eta)}` : 'ETA —'
  return `${now} / ${(p.end_ms / 1000).toFixed(1)} s virtual  ${speedText}  ${etaText}`
}

function progressBar(p: Progress): string {
  const filled = Math.round((BAR * Math.min(p.now_ms, p.end_ms)) / p.end_ms)
  return `[${'#'.repeat(filled)}${'.'.repeat(BAR - filled)}] ${progressFigures(p)}`
}

/** Runs the command line `args` (after `run`); resolves with the exit code. */
export function runCommand(args: readonly string[], io: CliIo): number {
  let file: string
  let out: string | undefined
  try {
    const { values, positionals } = parseArgs({
      args: [...args],
      options: { out: { type: 'string', short: 'o' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    })
    if (values.help) {
      io.stdout.write(USAGE)
      return 0
    }
    if (positionals.length !== 1) throw new Error('give one scenario file')
    file = positionals[0]
    out = values.out
  } catch (err) {
    io.stderr.write(`kscand-sim run: ${(err as Error).message.split('\n')[0]}\n${USAGE}`)
    return EXIT_CONFIG
  }
  try {
    const scenario = loadScenario(resolve(io.cwd, file), file)
    const dir = resolve(io.cwd, out ?? join('kscand-sim-out', scenario.name ?? 'scenario'))
    const tty = io.stderr.isTTY === true
    let lastPlain = 0
    const onProgress = (p: Progress) => {
      if (tty) {
        io.stderr.write(`\r${progressBar(p)}\x1b[K${p.done ? '\n' : ''}`)
      } else if (p.done || p.wall_ms - lastPlain >= PLAIN_EVERY_MS) {
        lastPlain = p.wall_ms
        io.stderr.write(`kscand-sim run: ${scenario.name}: ${progressFigures(p)}\n`)
      }
    }
    io.stderr.write(
      `kscand-sim run: ${scenario.name}: seed ${scenario.seed}, up to ${seconds(endOf(scenario))} virtual\n`,
    )
    const { summary, written } = runInto(scenario, dir, onProgress)
    for (const p of summary.processes) {
      const ttf =
        p.time_to_finish_ms === null ? '' : `  finished in ${seconds(p.time_to_finish_ms)}`
      const hit =
        p.top_tier_hit_ratio === null ? '—' : `${(p.top_tier_hit_ratio * 100).toFixed(1)}%`
      io.stdout.write(
        `${p.comm} (pid ${p.pid}): top-tier hit ${hit}, ${p.promotions} promoted, ` +
          `${p.demotions} demoted, ${p.hint_faults} hint faults${ttf}\n`,
      )
    }
    for (const w of written) io.stdout.write(`wrote ${relative(io.cwd, w) || w}\n`)
    return 0
  } catch (err) {
    if (!(err instanceof ScenarioError || (err as Error).name === 'BootError')) {
      io.stderr.write(`kscand-sim run: ${(err as Error).stack ?? err}\n`)
      return EXIT_FAILED
    }
    io.stderr.write(`kscand-sim run: ${(err as Error).message}\n`)
    return EXIT_CONFIG
  }
}
