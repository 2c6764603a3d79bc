/**
 * The sweep's pool: with `jobs` N the cells run in N − 1 worker threads (node:worker_threads)
 * and in this thread, all started at once, each taking the next cell from one queue in order
 * when it is done with one. The queue is a counter in shared memory (the next cell's place),
 * so a worker takes its next cell without waiting for this thread, which runs cells too. This
 * thread has the modules loaded already: a worker pays some 0.6 CPU s to start (tsx and the
 * sources' modules), so one fewer of them is that much less work. A cell runs the same code
 * in a worker as alone (cell.ts), and the kernel shares nothing between runs, so a cell's
 * outputs do not depend on the pool. With one job the cells run here, one after another.
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

/** What a worker starts with: every cell, and the queue's counter it shares with the pool. */
export interface WorkerData {
  readonly cells: readonly CellJob[]
  /** One Int32: the place in `cells` of the next cell to take; `cells.length` stops takers. */
  readonly next: SharedArrayBuffer
}

/** Takes the next cell's place from the queue, or null when it is empty or stopped. */
export function takeNext(next: Int32Array, count: number): number | null {
  const i = Atomics.add(next, 0, 1)
  return i < count ? i : null
}

/** Stops every taker: the queue answers null from now on. */
export const stopQueue = (next: Int32Array, count: number) => Atomics.store(next, 0, count)

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

/** Lets the event loop hear the workers' answers between this thread's cells. */
const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve))

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
  const finish = (d: CellDone & { ok: true }) => {
    done.set(d.index, d)
    onDone?.(d)
  }
  const runHere = (c: CellJob) =>
    finish({ index: c.index, ok: true, written: runCell(c), memory_bytes: null })
  const order = () => cells.map((c) => done.get(c.index)!)
  if (jobs <= 1 || cells.length <= 1) {
    for (const c of cells) runHere(c)
    return order()
  }
  const data: WorkerData = { cells, next: new SharedArrayBuffer(4) }
  const next = new Int32Array(data.next)
  const script = workerScript()
  const workers: Worker[] = []
  let failed: Error | null = null
  let stopped = () => {}
  const firstFailure = new Promise<void>((resolve) => {
    stopped = resolve
  })
  const fail = (err: Error) => {
    failed ??= err
    stopQueue(next, cells.length)
    stopped()
  }
  try {
    const exited = Array.from({ length: Math.min(jobs, cells.length) - 1 }, () => {
      const w = new Worker(script, { eval: true, workerData: data })
      workers.push(w)
      return new Promise<void>((resolve) => {
        w.on('message', (d: CellDone) => (d.ok ? finish(d) : fail(failure(d))))
        w.on('error', fail)
        w.on('exit', (code) => {
          if (code !== 0) fail(new Error(`a sweep worker exited (${code})`))
          resolve()
        })
      })
    })
    for (let i = takeNext(next, cells.length); i !== null; i = takeNext(next, cells.length)) {
      try {
        runHere(cells[i])
      } catch (err) {
        fail(err as Error)
      }
      await yieldToLoop()
    }
    // The first failure ends the wait: the workers still in a cell are terminated below.
    await Promise.race([Promise.all(exited), firstFailure])
    if (failed) throw failed
    if (done.size < cells.length) throw new Error('a sweep worker stopped before its cells ran')
  } finally {
    await Promise.all(workers.map((w) => w.terminate()))
  }
  return order()
}
