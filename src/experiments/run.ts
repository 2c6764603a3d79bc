/**
 * A headless run: boot the scenario's machine (host/boot.ts, as the daemon boots its config
 * file), then run the virtual clock as fast as possible, stopping at each timeline command's
 * time to apply it (commands.ts) and at each sample of the series, to the scenario's end: its
 * duration, or the moment every closed-loop process has spent its budget (at most limit_ms).
 * Nothing here reads the wall clock but the progress callback, so the same scenario gives
 * the same summary and trace.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { boot, machineConfig } from '../host/boot.ts'
import type { Kernel } from '../kernel/kernel.ts'
import type { Scenario } from '../schemas/scenario.ts'
import type { SysfsFile } from '../sysfs/file.ts'
import { applyCommand, target } from './commands.ts'
import { HeatmapRecorder } from './heatmap.ts'
import { ScenarioError } from './load.ts'
import { reportHtml, type Tunable } from './report.ts'
import { Series } from './series.ts'
import { type ProcessResult, processResult, type Summary, summary } from './summary.ts'
import { TraceFile } from './trace.ts'

/** Virtual ms run between two looks at the wall clock for progress, at most. */
const CHUNK_MS = 1000
/** Wall ms between two progress reports. */
const PROGRESS_EVERY_MS = 250

export interface Progress {
  /** Virtual ms done, and the most the run can take. */
  readonly now_ms: number
  readonly end_ms: number
  /** Wall ms since the run started. */
  readonly wall_ms: number
  readonly done: boolean
  /** The run ends when every budget is spent, end_ms being only its limit. */
  readonly open_ended: boolean
}

export interface RunOptions {
  /** Where the trace goes (the trace file is written as the run goes); absent: no trace. */
  readonly traceDir?: string
  readonly onProgress?: (p: Progress) => void
  /** Called once the machine has booted, before virtual time runs (the report's recorders). */
  readonly onBoot?: (kernel: Kernel, files: readonly SysfsFile[]) => void
  /** Called after each row of the series is sampled. */
  readonly onSample?: () => void
}

export interface RunResult {
  readonly kernel: Kernel
  readonly files: readonly SysfsFile[]
  readonly series: Series
  readonly summary: Summary
  readonly tracePath: string | null
}

/** The virtual ms a run ends at, at the latest. */
export const endOf = (s: Scenario) =>
  s.duration_ms === 'until_budgets_spent' ? s.limit_ms : s.duration_ms

function budgetsSpent(kernel: Kernel): boolean {
  return kernel.processList().every((p) => {
    const loop = kernel.closedLoops.get(p)
    return loop === undefined || loop.finished_at !== null
  })
}

export function runScenario(scenario: Scenario, opts: RunOptions = {}): RunResult {
  const wall0 = performance.now()
  const source = `scenario ${scenario.name}`
  const { kernel, files } = boot({
    seed: scenario.seed,
    machine: machineConfig(scenario.machine),
    machineSource: `${source}: machine`,
    onCorrupt: 'refuse',
  })
  const trace =
    opts.traceDir && scenario.record.trace
      ? new TraceFile(kernel, scenario.record.trace, opts.traceDir)
      : null
  const series = new Series(kernel)
  opts.onBoot?.(kernel, files)
  const timeline = scenario.timeline
    .map((c, i) => ({ c, i }))
    .sort((a, b) => a.c.at_ms - b.c.at_ms || a.i - b.i)
  const untilBudgets = scenario.duration_ms === 'until_budgets_spent'
  const end = endOf(scenario)
  const interval = scenario.record.series_interval_ms
  const exited: ProcessResult[] = []
  let next = 0
  let nextSample = 0
  let lastReport = wall0
  let ended: Summary['ended'] = 'duration'
  const report = (done: boolean) =>
    opts.onProgress?.({
      now_ms: kernel.now,
      end_ms: end,
      wall_ms: performance.now() - wall0,
      done,
      open_ended: untilBudgets,
    })
  try {
    for (;;) {
      while (next < timeline.length && timeline[next].c.at_ms <= kernel.now) {
        const { c, i } = timeline[next++]
        try {
          if (c.do === 'exit') {
            exited.push(processResult(kernel, target(kernel, c.process), kernel.now))
          }
          applyCommand(kernel, files, c)
        } catch (err) {
          throw new ScenarioError(
            `${source}: timeline[${i}] (${c.do} at ${c.at_ms} ms): ${(err as Error).message}`,
          )
        }
      }
      if (kernel.now >= nextSample) {
        series.sample()
        opts.onSample?.()
        nextSample += interval
      }
      if (untilBudgets && next === timeline.length && budgetsSpent(kernel)) {
        ended = 'budgets_spent'
        break
      }
      if (kernel.now >= end) {
        ended = untilBudgets ? 'limit' : 'duration'
        break
      }
      const until = Math.min(
        end,
        nextSample,
        kernel.now + CHUNK_MS,
        next < timeline.length ? timeline[next].c.at_ms : end,
      )
      kernel.run(until)
      if (opts.onProgress && performance.now() - lastReport >= PROGRESS_EVERY_MS) {
        lastReport = performance.now()
        report(false)
      }
    }
  } finally {
    trace?.close()
  }
  report(true)
  return {
    kernel,
    files,
    series,
    summary: summary(kernel, scenario, ended, exited),
    tracePath: trace?.path ?? null,
  }
}

/** Series rows a run takes at most, when its length is known. */
const samplesOf = (s: Scenario) =>
  s.duration_ms === 'until_budgets_spent'
    ? null
    : Math.floor(s.duration_ms / s.record.series_interval_ms) + 1

/** The writable files' text (tunables and quirks), by path. */
const tunableTexts = (files: readonly SysfsFile[]) =>
  new Map(files.filter((f) => f.mode === 0o644).map((f) => [f.path, f.show().trimEnd()]))

/**
 * Runs the scenario into `dir`: summary.json, series.csv, report.html and, if asked, the
 * trace.
 */
export function runInto(
  scenario: Scenario,
  dir: string,
  onProgress?: (p: Progress) => void,
): RunResult & { written: string[] } {
  mkdirSync(dir, { recursive: true })
  // Set at boot, which runScenario() does before anything else.
  const booted = {} as { heatmaps: HeatmapRecorder; tunables: Map<string, string> }
  const result = runScenario(scenario, {
    traceDir: dir,
    onProgress,
    onBoot: (kernel, files) => {
      booted.heatmaps = new HeatmapRecorder(kernel, samplesOf(scenario))
      booted.tunables = tunableTexts(files)
    },
    onSample: () => booted.heatmaps.sample(),
  })
  const atEnd = tunableTexts(result.files)
  const tunables: Tunable[] = [...atEnd].map(([path, at_end]) => ({
    path,
    at_boot: booted.tunables.get(path) ?? '',
    at_end,
  }))
  const summaryPath = join(dir, 'summary.json')
  const seriesPath = join(dir, 'series.csv')
  const reportPath = join(dir, 'report.html')
  writeFileSync(summaryPath, `${JSON.stringify(result.summary, null, 2)}\n`)
  writeFileSync(seriesPath, result.series.csv())
  writeFileSync(
    reportPath,
    reportHtml({
      scenario,
      summary: result.summary,
      series: { columns: result.series.columns(), rows: result.series.table() },
      heatmaps: booted.heatmaps.result(),
      tunables,
    }),
  )
  const written = [
    summaryPath,
    seriesPath,
    ...(result.tracePath ? [result.tracePath] : []),
    reportPath,
  ]
  return { ...result, written }
}
