/**
 * The sweep's pool: cells run in worker threads (node:worker_threads), `jobs` of them at once,
 * each worker taking the next cell when it is done with one. A cell runs the same code in a
 * worker as alone (cell.ts), and the kernel shares nothing between runs, so a cell's outputs
 * do not depend on the pool. With one job the cells run here, one after another.
 *
 * From a checkout the worker must run TypeScript: a worker does not inherit `--import tsx`
 * (Node 20 passes no execArgv loader hooks on), so it starts as a small eval script that
 * registers tsx's loader in its own thread (tsx/esm/api, resolved here) and then imports
 * worker.ts. A built tree (dist/) imports worker.js directly.
 */
import { Worker } from 'node:worker_threads'
import { type CellJob, runCell } from './cell.ts'
import { ScenarioError } from './load.ts'

export type CellDone =
  | { index: number; ok: true; written: string[]; memory_bytes: number | null }
  | { index: number; ok: false; name: string; message: string; stack: string }

/** The worker's script: register tsx when running from source, then the entry. */
function workerScript(): string {
  const self = import.meta.url
  const fromSource = self.endsWith('.ts')
  const entry = JSON.stringify(new URL(`./worker.${fromSource ? 'ts' : 'js'}`, self).href)
  if (!fromSource) return `import(${entry})`
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'))
  return `import(${tsx}).then((m) => { m.register(); return import(${entry}) })`
}

/** A failed cell as the error it was, so the command line tells a bad scenario from a bug. */
function failure(d: CellDone & { ok: false }): Error {
  if (d.name === 'ScenarioError' || d.name === 'BootError') return new ScenarioError(d.message)
  const err = new Error(d.message)
  err.stack = d.stack
  return err
}

/**
 * Runs every job, `jobs` at a time; `onDone` hears of each cell as it ends. Resolves with
 * every answer in the jobs' order; the first failure stops the pool and rejects.
 */
export async function runCells(
  cells: readonly CellJob[],
  jobs: number,
  onDone?: (d: CellDone & { ok: true }) => void,
): Promise<(CellDone & { ok: true })[]> {
  const done = new Map<number, CellDone & { ok: true }>()
  const order = () => cells.map((c) => done.get(c.index)!)
  if (jobs <= 1 || cells.length <= 1) {
    for (const c of cells) {
      const d = { index: c.index, ok: true as const, written: runCell(c), memory_bytes: null }
      done.set(c.index, d)
      onDone?.(d)
    }
    return order()
  }
  const script = workerScript()
  const queue = [...cells]
  const workers: Worker[] = []
  try {
    await new Promise<void>((resolve, reject) => {
      let running = 0
      const feed = (w: Worker) => {
        const next = queue.shift()
        if (next) {
          running++
          w.postMessage(next)
        } else if (running === 0) {
          resolve()
        }
      }
      for (let i = 0; i < Math.min(jobs, cells.length); i++) {
        const w = new Worker(script, { eval: true })
        workers.push(w)
        w.on('message', (d: CellDone) => {
          running--
          if (!d.ok) return reject(failure(d))
          done.set(d.index, d)
          onDone?.(d)
          feed(w)
        })
        w.on('error', reject)
        w.on('exit', (code) => {
          if (queue.length > 0 || running > 0) reject(new Error(`a sweep worker exited (${code})`))
        })
        feed(w)
      }
    })
  } finally {
    await Promise.all(workers.map((w) => w.terminate()))
  }
  return order()
}
