/**
 * A sweep (docs/experiments.md §9): a scenario's matrix cells (matrix.ts) run in the pool
 * (pool.ts) into DIR/cells/CELL/, then DIR/sweep.json (which cells of which sweep the folder
 * holds) and, when every cell is there, DIR/comparison.csv and comparison.html
 * (comparison.ts). `--shard I/N` runs a slice and writes no comparison; `kscand-sim merge`
 * gathers the slices' folders into one that is byte for byte what the whole run writes.
 */
import { createHash } from 'node:crypto'
import { cpSync, existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { Scenario } from '../schemas/scenario.ts'
import { type ComparedCell, comparisonCsv, comparisonHtml } from './comparison.ts'
import { MAX_FILE_BYTES, readSmallFile, ScenarioError } from './load.ts'
import { type Cell, type Shard, shardCells } from './matrix.ts'
import { type CellDone, runCells } from './pool.ts'
import type { Summary } from './summary.ts'

export const MANIFEST = 'sweep.json'

/** sweep.json: which sweep, and which of its cells this folder holds. */
export interface Manifest {
  readonly scenario: string
  /** Of the scenario as it ran (machine file read in): shards of one sweep share it. */
  readonly scenario_sha256: string
  readonly keys: readonly string[]
  readonly cells: number
  /** `I/N`, or null for every cell. */
  readonly shard: string | null
  readonly ran: readonly {
    index: number
    id: string
    dir: string
    values: Record<string, string | number | boolean>
  }[]
}

export interface SweepOptions {
  readonly jobs: number
  readonly shard: Shard | null
  readonly onDone?: (cell: Cell, d: CellDone & { ok: true }) => void
}

const sha256 = (s: Scenario) => createHash('sha256').update(JSON.stringify(s)).digest('hex')

/** Runs the cells of `scenario` (its shard's) into `dir`; returns the files written there. */
export async function runSweep(
  scenario: Scenario,
  cells: readonly Cell[],
  dir: string,
  opts: SweepOptions,
): Promise<string[]> {
  const mine = shardCells(cells, opts.shard)
  const byIndex = new Map(mine.map((c) => [c.index, c]))
  await runCells(
    mine.map((c) => ({ index: c.index, scenario: c.scenario, dir: join(dir, 'cells', c.dir) })),
    opts.jobs,
    (d) => opts.onDone?.(byIndex.get(d.index)!, d),
  )
  const manifest: Manifest = {
    scenario: scenario.name ?? '',
    scenario_sha256: sha256(scenario),
    keys: Object.keys(scenario.matrix ?? {}),
    cells: cells.length,
    shard: opts.shard ? `${opts.shard.index}/${opts.shard.count}` : null,
    ran: mine.map((c) => ({
      index: c.index,
      id: c.id,
      dir: c.dir,
      values: Object.fromEntries(c.values),
    })),
  }
  return writeResults(dir, manifest)
}

/** sweep.json, and the comparison when the folder holds every cell. */
function writeResults(dir: string, manifest: Manifest): string[] {
  mkdirSync(dir, { recursive: true })
  const path = join(dir, MANIFEST)
  writeFileSync(path, `${JSON.stringify(manifest, null, 2)}\n`)
  if (manifest.ran.length < manifest.cells) return [path]
  const compared: ComparedCell[] = manifest.ran.map((c) => ({
    ...c,
    summary: readSummary(join(dir, 'cells', c.dir)),
  }))
  const csv = join(dir, 'comparison.csv')
  const html = join(dir, 'comparison.html')
  writeFileSync(csv, comparisonCsv(compared, manifest.keys))
  writeFileSync(html, comparisonHtml(manifest.scenario, compared, manifest.keys))
  return [path, csv, html]
}

/** Summaries and manifests are far below the scenario file's bound; a bigger one is not ours. */
function readJson<T>(path: string): T {
  const fail = (why: string): never => {
    throw new ScenarioError(`${path}: ${why}`)
  }
  const text = readSmallFile(path, 16 * MAX_FILE_BYTES, 'result file', fail)
  try {
    return JSON.parse(text) as T
  } catch (err) {
    return fail(`not JSON: ${(err as Error).message}`)
  }
}

/** The summary.json of a run's folder. */
export const readSummary = (dir: string) => readJson<Summary>(join(dir, 'summary.json'))

/**
 * `kscand-sim merge DIR… --out OUT`: the shards' folders of one sweep into OUT — their cells
 * copied under OUT/cells/, sweep.json and the comparison written as the whole run writes
 * them. Every cell must be in exactly one shard.
 */
export function mergeSweeps(dirs: readonly string[], out: string): string[] {
  const shards = dirs.map((d) => ({ dir: d, manifest: readJson<Manifest>(join(d, MANIFEST)) }))
  const [{ manifest: first }] = shards
  const where = new Map<number, string>()
  const ran: Manifest['ran'][number][] = []
  for (const { dir, manifest } of shards) {
    if (manifest.scenario_sha256 !== first.scenario_sha256 || manifest.cells !== first.cells) {
      throw new ScenarioError(`${dir}: a shard of another sweep than ${shards[0].dir}`)
    }
    for (const c of manifest.ran) {
      const other = where.get(c.index)
      if (other !== undefined) {
        throw new ScenarioError(`cell ${c.index} (${c.id}) is in both ${other} and ${dir}`)
      }
      where.set(c.index, dir)
      ran.push(c)
      const from = resolve(dir, 'cells', c.dir)
      const to = resolve(out, 'cells', c.dir)
      if (!existsSync(join(from, 'summary.json'))) {
        throw new ScenarioError(`${dir}: cell ${c.index} (${c.id}) has no summary.json`)
      }
      if (from !== to) cpSync(from, to, { recursive: true })
    }
  }
  for (let i = 0; i < first.cells; i++) {
    if (!where.has(i)) throw new ScenarioError(`cell ${i} is in none of the folders given`)
  }
  ran.sort((a, b) => a.index - b.index)
  return writeResults(out, { ...first, shard: null, ran })
}
