/**
 * A worker thread of the sweep pool (pool.ts): takes cells from the pool's shared queue one at
 * a time, runs each (cell.ts) and answers with the files written and this thread's memory (its
 * V8 heap and external memory, the kernel's typed arrays among it), or the error's message,
 * which stops the queue; it ends when the queue is empty.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { runCell } from './cell.ts'
import { type CellDone, stopQueue, takeNext, type WorkerData } from './pool.ts'

const port = parentPort
if (!port) throw new Error('src/experiments/worker.ts runs as a worker thread')
const { cells, next: shared } = workerData as WorkerData
const next = new Int32Array(shared)
for (let i = takeNext(next, cells.length); i !== null; i = takeNext(next, cells.length)) {
  const job = cells[i]
  let answer: CellDone
  try {
    const written = runCell(job)
    const m = process.memoryUsage()
    answer = { index: job.index, ok: true, written, memory_bytes: m.heapTotal + m.external }
  } catch (err) {
    const e = err as Error
    answer = { index: job.index, ok: false, name: e.name, message: e.message, stack: e.stack ?? '' }
    stopQueue(next, cells.length)
  }
  port.postMessage(answer)
}
