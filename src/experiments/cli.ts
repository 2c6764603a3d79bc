/**
 * `kscand-sim run SCENARIO [--out DIR] [--jobs N] [--shard I/N]`: runs a scenario headless
 * and writes its outputs (docs/experiments.md); a scenario with a matrix is a sweep, its cells
 * run in the sweep's pool of threads (sweep.ts). On a terminal, stderr carries one progress line
 * redrawn in place (virtual time done / total, speed over real time, ETA; a sweep's cells
 * done); otherwise a plain line every few seconds (a sweep: one a cell). `kscand-sim merge
 * DIR… --out OUT` gathers a sweep's shards. A bad scenario or command line, or a command the
 * kernel refuses, is one line and exit code 2.
 */
import { availableParallelism } from 'node:os'
import { join, relative, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import type { Scenario } from '../schemas/scenario.ts'
import { loadScenario, ScenarioError } from './load.ts'
import { type Cell, expandMatrix, parseShard, type Shard, shardCells } from './matrix.ts'
import { endOf, type Progress, runInto } from './run.ts'
import type { Summary } from './summary.ts'
import { mergeSweeps, readSummary, runSweep } from './sweep.ts'

export const USAGE =
  'Usage: kscand-sim run SCENARIO.yaml [--out DIR] [--jobs N] [--shard I/N]\n' +
  '       kscand-sim merge DIR... --out DIR\n'
/** Most threads a sweep runs cells in (--jobs): the process's own and workers. */
export const MAX_JOBS = 256

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

/** A process's top-tier hit ratio as the result lines show it. */
const hitRatio = (p: Summary['processes'][number]) =>
  p.top_tier_hit_ratio === null ? '—' : `${(p.top_tier_hit_ratio * 100).toFixed(1)}%`

/** The exit code of what a command threw, its message on stderr. */
function failed(command: string, err: unknown, io: CliIo): number {
  if (!(err instanceof ScenarioError || (err as Error).name === 'BootError')) {
    io.stderr.write(`kscand-sim ${command}: ${(err as Error).stack ?? err}\n`)
    return EXIT_FAILED
  }
  io.stderr.write(`kscand-sim ${command}: ${(err as Error).message}\n`)
  return EXIT_CONFIG
}

/** parseArgs, or the one line of what is wrong and the usage on stderr (null). */
function parsed<T>(command: string, io: CliIo, parse: () => T): T | null {
  try {
    return parse()
  } catch (err) {
    io.stderr.write(`kscand-sim ${command}: ${(err as Error).message.split('\n')[0]}\n${USAGE}`)
    return null
  }
}

function jobsOf(text: string | undefined): number {
  if (text === undefined) return availableParallelism()
  const n = /^\d{1,4}$/.test(text) ? Number(text) : 0
  if (n < 1 || n > MAX_JOBS) throw new Error(`--jobs ${text}: give 1 to ${MAX_JOBS}`)
  return n
}

/** A sweep's run: a line a cell done (redrawn on a terminal), then the files written. */
async function sweep(
  scenario: Scenario,
  cells: readonly Cell[],
  dir: string,
  jobs: number,
  shard: Shard | null,
  io: CliIo,
): Promise<void> {
  const name = scenario.name ?? ''
  const mine = shardCells(cells, shard).length
  const workers = Math.min(jobs, mine)
  io.stderr.write(
    `kscand-sim run: ${name}: ${mine} of ${cells.length} cells` +
      `${shard ? ` (shard ${shard.index}/${shard.count})` : ''}, ${workers} worker${workers === 1 ? '' : 's'}, ` +
      `each up to ${seconds(endOf(scenario))} virtual\n`,
  )
  const tty = io.stderr.isTTY === true
  const wall0 = performance.now()
  let done = 0
  const written = await runSweep(scenario, cells, dir, {
    jobs,
    shard,
    onDone: (cell) => {
      done++
      const line = `[${done}/${mine}] ${cell.id}  ${seconds(performance.now() - wall0)} wall`
      io.stderr.write(
        tty ? `\r${line}\x1b[K${done === mine ? '\n' : ''}` : `kscand-sim run: ${line}\n`,
      )
      const summary = readSummary(join(dir, 'cells', cell.dir))
      const hits = summary.processes.map((p) => `${p.comm} ${hitRatio(p)}`).join(', ')
      io.stdout.write(`${cell.id}: top-tier hit ${hits}\n`)
    },
  })
  if (shard) {
    io.stdout.write(
      `shard ${shard.index}/${shard.count}: merge the shards' folders with kscand-sim merge\n`,
    )
  }
  for (const w of written) io.stdout.write(`wrote ${relative(io.cwd, w) || w}\n`)
}

/** Runs the command line `args` (after `run`); resolves with the exit code. */
export async function runCommand(args: readonly string[], io: CliIo): Promise<number> {
  const cmd = parsed('run', io, () => {
    const { values, positionals } = parseArgs({
      args: [...args],
      options: {
        out: { type: 'string', short: 'o' },
        jobs: { type: 'string', short: 'j' },
        shard: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
      strict: true,
    })
    if (!values.help && positionals.length !== 1) throw new Error('give one scenario file')
    return { ...values, file: positionals[0], jobs: jobsOf(values.jobs) }
  })
  if (cmd === null) return EXIT_CONFIG
  if (cmd.help) {
    io.stdout.write(USAGE)
    return 0
  }
  const { file, out } = cmd
  try {
    const shard = cmd.shard === undefined ? null : parseShard(cmd.shard)
    const scenario = loadScenario(resolve(io.cwd, file), file)
    const dir = resolve(io.cwd, out ?? join('kscand-sim-out', scenario.name ?? 'scenario'))
    const { matrix } = scenario
    if (matrix) {
      const cells = expandMatrix({ ...scenario, matrix }, file)
      await sweep(scenario, cells, dir, cmd.jobs, shard, io)
      return 0
    }
    if (shard) throw new ScenarioError(`--shard: ${file} has no matrix to shard`)
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
      io.stdout.write(
        `${p.comm} (pid ${p.pid}): top-tier hit ${hitRatio(p)}, ${p.promotions} promoted, ` +
          `${p.demotions} demoted, ${p.hint_faults} hint faults${ttf}\n`,
      )
    }
    for (const w of written) io.stdout.write(`wrote ${relative(io.cwd, w) || w}\n`)
    return 0
  } catch (err) {
    return failed('run', err, io)
  }
}

/** `kscand-sim merge DIR... --out DIR` (args after `merge`); resolves with the exit code. */
export function mergeCommand(args: readonly string[], io: CliIo): number {
  const cmd = parsed('merge', io, () => {
    const { values, positionals } = parseArgs({
      args: [...args],
      options: { out: { type: 'string', short: 'o' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    })
    if (!values.help && (positionals.length === 0 || values.out === undefined)) {
      throw new Error("give the shards' folders and --out DIR")
    }
    return { ...values, dirs: positionals, out: values.out ?? '' }
  })
  if (cmd === null) return EXIT_CONFIG
  if (cmd.help) {
    io.stdout.write(USAGE)
    return 0
  }
  try {
    const written = mergeSweeps(
      cmd.dirs.map((d) => resolve(io.cwd, d)),
      resolve(io.cwd, cmd.out),
    )
    for (const w of written) io.stdout.write(`wrote ${relative(io.cwd, w) || w}\n`)
    return 0
  } catch (err) {
    return failed('merge', err, io)
  }
}
