/**
 * Sweeps (issue 15, performance): 8 cells of the demo machine (a matrix of kscand's
 * scan_sleep_ms) run by the sweep's pool with 2 jobs (one worker thread and this thread), beside
 * the same 8 cells run one after another in this process (the pool with one job), in the same
 * run. The pool's time includes starting its worker (tsx compiles the sources in it). Each worker states its
 * memory after its cells: its V8 heap and external memory (the simulated machine's typed
 * arrays), which is what one more worker adds (this thread's cells state none). Beside the wall times, the CPU time of every
 * thread of the process, which the neighbours' load on a shared machine does not change.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseScenario } from '../src/experiments/load.ts'
import { expandMatrix } from '../src/experiments/matrix.ts'
import { runCells } from '../src/experiments/pool.ts'
import type { BenchRow } from './table.ts'

/**
 * Virtual ms of each cell: the demo benchmark's run (experiments.bench.ts), about 2 s of CPU,
 * against which a worker's start-up (some 0.6 CPU s: tsx and the sources' modules) is small.
 */
const VIRTUAL_MS = 600_000
const CELLS = [5, 10, 20, 40, 80, 160, 320, 640]

function cells(dir: string) {
  const s = parseScenario(
    JSON.stringify({
      name: 'bench-sweep',
      duration_ms: VIRTUAL_MS,
      matrix: { scan_sleep_ms: CELLS },
      record: { series_interval_ms: 1000 },
    }),
    'bench-sweep.json',
  )
  return expandMatrix({ ...s, matrix: s.matrix! }, 'bench-sweep.json').map((c) => ({
    index: c.index,
    scenario: c.scenario,
    dir: join(dir, c.dir),
  }))
}

/** CPU ms this process has used, every thread's (the pool's workers included). */
function cpuMs(): number {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}

async function timed(jobs: number) {
  const dir = mkdtempSync(join(tmpdir(), 'kscand-sim-bench-sweep-'))
  try {
    const t0 = performance.now()
    const c0 = cpuMs()
    const done = await runCells(cells(dir), jobs)
    return { wall: performance.now() - t0, cpu: cpuMs() - c0, done }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

export async function sweepSuite(): Promise<BenchRow[]> {
  const sequential = await timed(1)
  const pool = await timed(2)
  const ratio = pool.wall / sequential.wall
  const memory = Math.max(...pool.done.map((d) => d.memory_bytes ?? 0)) / 2 ** 20
  return [
    {
      name: `sweep of ${CELLS.length} cells (demo machine, ${VIRTUAL_MS / 1000} virtual s each), 2 jobs`,
      value: pool.wall,
      unit: 'wall ms',
      baseline: { name: 'the same cells one after another', value: sequential.wall },
      target: '≤ 0.6 × one after another',
      pass: ratio <= 0.6,
    },
    {
      // On a machine whose cores are busy with others' work the wall times cannot show the
      // pool's gain; the CPU times show what it costs beyond the cells (a worker, tsx).
      name: `sweep of ${CELLS.length} cells, 2 jobs, CPU time of every thread`,
      value: pool.cpu,
      unit: 'CPU ms',
      baseline: { name: 'one after another', value: sequential.cpu },
    },
    {
      name: 'sweep worker memory (V8 heap + external, the most of a worker)',
      value: memory,
      unit: 'MiB',
    },
  ]
}
