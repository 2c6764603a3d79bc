/**
 * The state file's figures (issue 10), in the same run: /healthz p99 while a large state
 * (about 14 MB: 120 processes of 4096 VMAs) is saved on every write, against /healthz p99
 * with nothing being written (goal < 50 ms); the time a write takes with its save (write,
 * fsync, rename, directory fsync), against the event loop the save as it was before
 * (pretty JSON, built and written synchronously) blocked for the same state.
 *
 * The server is the real one (src/server.ts) in a child process, booted from the state;
 * the load (one writer, four /healthz connections) runs here.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type MachineState, StateFile, writeFileAtomic } from '../src/host/state-file.ts'
import { MAX_VMAS } from '../src/kernel/constants.ts'
import { p99 } from './http.bench.ts'
import type { BenchRow, BenchSuite } from './table.ts'

const TUNABLE = '/sys/kernel/mm/kscand/scan_sleep_ms'
const PROCESSES = 120
const MS = 4000

function largeState(): MachineState {
  const vmas = Array.from({ length: MAX_VMAS }, () => ({ kind: 'anon' as const, size: 4096 }))
  return {
    tunables: {},
    threads: {},
    processes: Array.from({ length: PROCESSES }, (_, i) => ({
      spec: { comm: `wide${i}`, vmas, workload: { pattern: 'idle' as const } },
      pte_scan_scale: 8,
    })),
  }
}

/** What the save before this change did on the event loop, for the same state. */
function oldSynchronousSaveMs(path: string, state: MachineState): number {
  const t0 = performance.now()
  JSON.stringify(state) // its change check
  const doc = { format: 'kscand-sim-state', version: 1, saved_at: new Date().toISOString(), state }
  writeFileAtomic(path, [Buffer.from(`${JSON.stringify(doc, null, 2)}\n`)])
  return performance.now() - t0
}

async function startServer(dir: string): Promise<{ child: ChildProcess; base: string }> {
  const root = fileURLToPath(new URL('..', import.meta.url))
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      HOST: '127.0.0.1',
      PORT: '0',
      STATE_FILE: join(dir, 'state.json'),
      SIM_MODE: 'paused',
      MAX_EVENT_LOOP_DELAY_MS: '0',
      WRITE_RATE_LIMIT: '0',
      REQUEST_LOG_LEVEL: 'debug',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let out = ''
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)))
    child.stdout?.on('data', (d) => {
      out += d
      const m = /Server listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(out)
      if (m) resolve(Number(m[1]))
    })
  })
  child.stdout?.resume()
  return { child, base: `http://127.0.0.1:${port}` }
}

export const stateSuite: BenchSuite = async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kscand-sim-bench-'))
  const state = largeState()
  new StateFile(join(dir, 'state.json')).save(state)
  const oldMs = Math.min(...[0, 1, 2].map(() => oldSynchronousSaveMs(join(dir, 'old.json'), state)))
  const { child, base } = await startServer(dir)
  try {
    await p99(`${base}/healthz`, 1000)
    const idle = await p99(`${base}/healthz`, MS)
    let writes = 0
    let writing = 0
    let stop = false
    const writer = (async () => {
      while (!stop) {
        const t0 = performance.now()
        const res = await fetch(`${base}${TUNABLE}`, {
          method: 'PUT',
          body: String(20 + (writes % 2)),
        })
        if (!res.ok) throw new Error(`PUT: ${res.status}`)
        writing += performance.now() - t0
        writes++
      }
    })()
    const busy = await p99(`${base}/healthz`, MS)
    stop = true
    await writer
    return [
      {
        name: `/healthz p99 while a ${PROCESSES}×${MAX_VMAS}-VMA state (~14 MB) is saved on every write`,
        value: busy,
        unit: 'ms',
        baseline: { name: '/healthz p99, nothing written', value: idle },
        target: '< 50 ms',
        pass: busy < 50,
      },
      {
        name: 'PUT of a tunable with the save of that state (fsync before the answer)',
        value: writing / writes,
        unit: 'ms',
        baseline: { name: 'event loop blocked by one save as before', value: oldMs },
      },
    ] satisfies BenchRow[]
  } finally {
    child.kill('SIGTERM')
    rmSync(dir, { recursive: true, force: true })
  }
}
