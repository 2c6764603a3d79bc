/**
 * A worker thread of the sweep pool (pool.ts): takes cell jobs from the parent one at a time,
 * runs each (cell.ts) and answers with the files written and this thread's memory (its V8 heap
 * and external memory, the kernel's typed arrays among it), or the error's message.
 */
import { parentPort } from 'node:worker_threads'
import { type CellJob, runCell } from './cell.ts'
import type { CellDone } from './pool.ts'

const port = parentPort
if (!port) throw new Error('src/experiments/worker.ts runs as a worker thread')
port.on('message', (job: CellJob) => {
  let answer: CellDone
  try {
    const written = runCell(job)
    const m = process.memoryUsage()
    answer = { index: job.index, ok: true, written, memory_bytes: m.heapTotal + m.external }
  } catch (err) {
    const e = err as Error
    answer = { index: job.index, ok: false, name: e.name, message: e.message, stack: e.stack ?? '' }
  }
  port.postMessage(answer)
})
