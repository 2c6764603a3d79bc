/**
 * One cell of a sweep run into its folder: the cell's scenario as scenario.json (which
 * `kscand-sim run` takes as it is, giving the same outputs), then runInto's outputs. The pool's
 * workers (worker.ts) and a run with one job call this, and nothing else runs a cell.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Scenario } from '../schemas/scenario.ts'
import { runInto } from './run.ts'

export interface CellJob {
  readonly index: number
  readonly scenario: Scenario
  /** The cell's folder. */
  readonly dir: string
}

/** Runs the cell; returns the files written. Throws as runInto does. */
export function runCell(job: CellJob): string[] {
  mkdirSync(job.dir, { recursive: true })
  const scenarioPath = join(job.dir, 'scenario.json')
  writeFileSync(scenarioPath, `${JSON.stringify(job.scenario, null, 2)}\n`)
  return [scenarioPath, ...runInto(job.scenario, job.dir).written]
}
