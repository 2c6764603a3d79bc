/**
 * kill -9 at random moments during writes, 50 times: the state file is always readable, and
 * no acknowledged write is ever lost. Each round starts the server on the state file the
 * previous round's kill left (so every restart also restores it), runs concurrent writers
 * (three tunables with increasing values, kmigrated start/stop), and kills the process after
 * a random delay. After the kill the file must hold, for each writer, either its last
 * acknowledged value or the one still in flight.
 *
 * Fifty restarts through tsx's per-file loader hooks take minutes on two busy cores, so the
 * server is bundled once with esbuild (the transform tsx itself uses) and run with node. The
 * bundle sits two levels below the package root, as dist/routes/*.js does, so the files it
 * finds beside itself (public/ for the dashboard) and node_modules resolve as in the image.
 */
import { join } from 'node:path'
import { build } from 'esbuild'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { StateFile } from '../../src/host/state-file.ts'
import {
  NO_SHEDDING,
  ROOT,
  type ServerProcess,
  smallConfigFile,
  startServer,
  TOKEN,
  tempDir,
} from '../helpers/process.ts'

const ROUNDS = 50
const SEED = Number(process.env.KILL9_SEED ?? Date.now() % 1_000_000)
const TUNABLES = [
  '/sys/kernel/mm/kscand/scan_sleep_ms',
  '/sys/kernel/mm/kmigrated/kmigrate_sleep_ms',
  '/sys/kernel/mm/kscand/mms_to_scan',
]
const THREAD = 'kmigrated'
const AUTH = { authorization: `Bearer ${TOKEN}` }
const BUNDLE = join(ROOT, 'dist/kill9/server.mjs')

/** mulberry32: the kill moments are reproducible with KILL9_SEED. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32
  }
}

/** What a writer knows: its last acknowledged value and the one it may have in flight. */
interface Track {
  acked: string | null
  inflight: string | null
}

let tmp: ReturnType<typeof tempDir>
beforeAll(async () => {
  tmp = tempDir()
  await build({
    entryPoints: [join(ROOT, 'src/server.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    outfile: BUNDLE,
    logLevel: 'warning',
  })
})
afterAll(() => tmp?.cleanup())

describe('kill -9 during writes', () => {
  it(`never leaves an unreadable state file nor loses an acknowledged write (${ROUNDS} rounds, seed ${SEED})`, async () => {
    const random = prng(SEED)
    const stateFile = join(tmp.dir, 'state.json')
    const env = {
      CONFIG_FILE: smallConfigFile(tmp.dir),
      STATE_FILE: stateFile,
      KSCAND_SIM_TOKEN: TOKEN,
      SIM_MODE: 'paused',
      REQUEST_LOG_LEVEL: 'silent',
      WRITE_RATE_LIMIT: '0',
      ...NO_SHEDDING,
    }
    const tracks = new Map<string, Track>(
      [...TUNABLES, THREAD].map((k) => [k, { acked: null, inflight: null }]),
    )
    let next = 1000
    let acks = 0
    let killedInFlight = 0

    /** The state file after a kill: readable, and every track at acked or in-flight. */
    const check = (round: number) => {
      const state = new StateFile(stateFile).load()
      expect(state, `round ${round}: no state file`).not.toBeNull()
      for (const [key, t] of tracks) {
        if (t.acked === null) continue
        const v = key === THREAD ? state?.threads[THREAD] : state?.tunables[key]
        const allowed = [t.acked, t.inflight].filter((x) => x !== null)
        expect(allowed, `round ${round} (seed ${SEED}): ${key} is ${v}`).toContain(v)
        t.acked = v as string
        t.inflight = null
      }
      return state
    }

    const writer = (srv: ServerProcess, key: string, stop: () => boolean) => async () => {
      const t = tracks.get(key) as Track
      while (!stop()) {
        const isThread = key === THREAD
        const value = isThread ? (t.acked === 'stopped' ? 'running' : 'stopped') : String(next++)
        t.inflight = value
        const url = isThread
          ? `${srv.url}/threads/${THREAD}/${value === 'stopped' ? 'stop' : 'start'}`
          : `${srv.url}${key}`
        let r: Response
        try {
          r = await fetch(url, { method: isThread ? 'POST' : 'PUT', body: value, headers: AUTH })
          await r.arrayBuffer()
        } catch {
          return // the process is gone
        }
        expect(r.status).toBe(200)
        t.acked = value
        t.inflight = null
        acks++
      }
    }

    let srv: ServerProcess | null = null
    for (let round = 0; round <= ROUNDS; round++) {
      srv = await startServer(env, { command: [process.execPath, BUNDLE] })
      // What the restarted server serves is what the file held.
      const state = round === 0 ? null : check(round - 1)
      for (const key of TUNABLES) {
        const want = state?.tunables[key]
        if (want === undefined) continue
        expect(await (await fetch(`${srv.url}${key}`)).text()).toBe(`${want}\n`)
      }
      if (round === ROUNDS) break

      let killed = false
      const writers = [...tracks.keys()].map((key) =>
        writer(srv as ServerProcess, key, () => killed)(),
      )
      await new Promise((r) => setTimeout(r, 5 + random() * 120))
      killed = true
      srv.child.kill('SIGKILL')
      await srv.exited
      await Promise.all(writers)
      if ([...tracks.values()].some((t) => t.inflight !== null)) killedInFlight++
    }

    const s = srv as ServerProcess
    s.child.kill('SIGTERM')
    expect(await s.exited).toEqual({ code: 0, signal: null })
    console.log(
      `kill -9: ${ROUNDS} rounds, ${acks} acknowledged writes, ${killedInFlight} kills with a write in flight (seed ${SEED})`,
    )
    expect(acks).toBeGreaterThan(ROUNDS)
    expect(killedInFlight).toBeGreaterThan(ROUNDS / 2)
  }, 900_000)
})
