/**
 * The process through start, run and shutdown, on real sockets: /readyz, SIGTERM with an
 * in-flight request, refused connections, websocket clients (one that stopped reading), and
 * a second SIGTERM during the shutdown; `npm start` stopped by a SIGTERM to npm.
 */
import { once } from 'node:events'
import { readdirSync, readFileSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { StateFile } from '../../src/host/state-file.ts'
import {
  NO_SHEDDING,
  type ServerProcess,
  smallConfigFile,
  startServer,
  TOKEN,
  tempDirs,
  within,
} from '../helpers/process.ts'

const SLEEP = '/sys/kernel/mm/kscand/scan_sleep_ms'
const AUTH = { authorization: `Bearer ${TOKEN}` }

const dir = tempDirs()
const servers: ServerProcess[] = []
afterEach(() => {
  for (const s of servers.splice(0)) s.child.kill('SIGKILL')
})

async function start(
  env: Record<string, string> = {},
  opts: Parameters<typeof startServer>[1] = {},
) {
  const d = dir()
  const stateFile = join(d, 'state.json')
  const srv = await startServer(
    {
      CONFIG_FILE: smallConfigFile(d),
      STATE_FILE: stateFile,
      KSCAND_SIM_TOKEN: TOKEN,
      ...NO_SHEDDING,
      ...env,
    },
    opts,
  )
  servers.push(srv)
  return { srv, stateFile }
}

async function status(url: string): Promise<number> {
  return (await fetch(url, { headers: { connection: 'close' } })).status
}

/** Polls until `probe` holds, bounded in time. */
async function until(what: string, probe: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

function connectError(port: number): Promise<string | null> {
  return new Promise((res) => {
    const s = connect(port, '127.0.0.1')
    s.once('connect', () => {
      s.destroy()
      res(null)
    })
    s.once('error', (e: NodeJS.ErrnoException) => res(e.code ?? e.message))
  })
}

function rawSocket(ws: WebSocket): Socket {
  return (ws as unknown as { _socket: Socket })._socket
}

function closeOf(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((res) =>
    ws.once('close', (code, reason) => res({ code, reason: `${reason}` })),
  )
}

/** A subscriber that has received its snapshot. */
async function subscriber(port: number, query = ''): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/events${query}`, ['kscand-sim.v1'])
  const first = once(ws, 'message')
  await within(10_000, once(ws, 'open'), 'websocket open')
  const [data] = await within(10_000, first, 'snapshot')
  expect(JSON.parse(String(data)).type).toBe('snapshot')
  return ws
}

describe('readiness through start, run and shutdown', () => {
  it('is ready once listening, stays ready while running, turns 503 on SIGTERM, and exits 0 after the in-flight request', async () => {
    const { srv, stateFile } = await start({ SHUTDOWN_DRAIN_MS: '1500', SIM_MODE: 'realtime' })
    expect(await status(`${srv.url}/readyz`)).toBe(200)

    // Run: writes and clock steps; still ready.
    const put = await fetch(`${srv.url}${SLEEP}`, { method: 'PUT', body: '45', headers: AUTH })
    expect(put.status).toBe(200)
    const step = await fetch(`${srv.url}/sim/step`, {
      method: 'POST',
      body: JSON.stringify({ ms: 2000 }),
      headers: { ...AUTH, 'content-type': 'application/json' },
    })
    expect(step.status).toBe(200)
    expect(await status(`${srv.url}/readyz`)).toBe(200)

    // A write in flight: headers sent, body not finished.
    const inflight: Socket = connect(srv.port, '127.0.0.1')
    await once(inflight, 'connect')
    let answer = ''
    inflight.on('data', (d) => {
      answer += d
    })
    // Expect: 100-continue makes the server say when it has the request's headers.
    inflight.write(
      `PUT ${SLEEP} HTTP/1.1\r\nHost: 127.0.0.1:${srv.port}\r\nAuthorization: Bearer ${TOKEN}\r\n` +
        'Content-Type: text/plain\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n',
    )
    await until('the server has the request', async () => answer.includes('100 Continue'))
    inflight.write('12')

    srv.child.kill('SIGTERM')
    await until(
      'readyz 503 while draining',
      async () => (await status(`${srv.url}/readyz`)) === 503,
    )
    expect(await status(`${srv.url}/healthz`)).toBe(200)
    // After the drain the listener closes: new connections are refused.
    await until(
      'connections refused',
      async () => (await connectError(srv.port)) === 'ECONNREFUSED',
    )
    expect(srv.child.exitCode).toBeNull()

    // The request in flight finishes and is answered.
    inflight.write('3')
    const exit = await within(10_000, srv.exited, 'exit')
    expect(answer).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK\r\n/)
    expect(answer).toMatch(/\r\nconnection: close\r\n/i)
    expect(answer).toMatch(/\r\n\r\n123\n$/)
    expect(exit).toEqual({ code: 0, signal: null })
    expect(new StateFile(stateFile).load()?.tunables[SLEEP]).toBe('123')
    expect(srv.stdout()).toContain('"msg":"stopped"')
  })
})

/** The processes below `pid`, from /proc (Linux). */
function descendants(pid: number): number[] {
  const parent = new Map<number, number>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      // `pid (comm) state ppid …`: comm may hold spaces, so read after its closing parenthesis.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      parent.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]))
    } catch {
      // It exited while being read.
    }
  }
  const below = (p: number): number[] =>
    [...parent].filter(([, pp]) => pp === p).flatMap(([c]) => [c, ...below(c)])
  return below(pid)
}

const alive = (pid: number) => {
  try {
    return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return false
  }
}

describe('npm start', () => {
  it('runs the server from the checkout; a SIGTERM to npm stops it, leaving no process behind', async () => {
    const { srv } = await start({}, { command: ['npm', 'start'] })
    expect(await status(`${srv.url}/readyz`)).toBe(200)
    const below = descendants(srv.child.pid as number)
    expect(below.length).toBeGreaterThan(0)

    try {
      srv.child.kill('SIGTERM')
      // npm passes the SIGTERM on to the server (`exec node …`: no shell between them) and
      // exits with its code.
      expect(await within(10_000, srv.exited, 'npm exit')).toEqual({ code: 0, signal: null })
      await until('every process below npm gone', async () => !below.some(alive))
      expect(await connectError(srv.port)).toBe('ECONNREFUSED')
      expect(srv.stdout()).toContain('"msg":"stopped"')
    } finally {
      // Whatever a failure left behind.
      for (const pid of below.filter(alive)) process.kill(pid, 'SIGKILL')
    }
  })
})

describe('SIGTERM with websocket clients', () => {
  it('exits 0 within 10 s although clients stopped reading; the clients it could reach saw 1001', async () => {
    const { srv } = await start({ SIM_MODE: 'realtime', SPEED: '10' })
    const polite = await subscriber(srv.port)
    let received = 0
    polite.on('message', (d: Buffer) => {
      received += d.length
    })
    // Stopped reading with little pending (it only wants sysfs writes): the close frame
    // reaches its socket, but it never answers it.
    const stalled = await subscriber(srv.port, '?events=sysfs_write')
    const stalledSocket = rawSocket(stalled)
    stalledSocket.pause()
    // Stopped reading under the full stream: its buffers fill, no close frame gets through.
    const flooded = await subscriber(srv.port)
    const floodedSocket = rawSocket(flooded)
    floodedSocket.pause()
    await until('the stream has flooded the paused socket', async () => received > 8e6, 20_000)
    const politeClosed = closeOf(polite)

    const t0 = performance.now()
    srv.child.kill('SIGTERM')
    const exit = await within(15_000, srv.exited, 'exit')
    const elapsed = performance.now() - t0
    expect(exit).toEqual({ code: 0, signal: null })
    expect(elapsed).toBeLessThan(10_000)
    expect(await politeClosed).toEqual({ code: 1001, reason: 'server shutting down' })
    expect(srv.stdout()).toContain('cutting 2 websocket(s) that did not close')

    // Reading again, the stalled client finds the close frame it was sent.
    const stalledClosed = closeOf(stalled)
    stalledSocket.resume()
    expect(await within(5000, stalledClosed, 'stalled close')).toEqual({
      code: 1001,
      reason: 'server shutting down',
    })
    const floodedClosed = closeOf(flooded)
    floodedSocket.resume()
    await within(10_000, floodedClosed, 'flooded close')
  })

  it('a second signal during the shutdown exits at once with 1, leaving a valid state file', async () => {
    const { srv, stateFile } = await start({ SHUTDOWN_WS_GRACE_MS: '5000' })
    const put = await fetch(`${srv.url}${SLEEP}`, { method: 'PUT', body: '55', headers: AUTH })
    expect(put.status).toBe(200)
    const stalled = await subscriber(srv.port)
    rawSocket(stalled).pause()

    const t0 = performance.now()
    srv.child.kill('SIGINT')
    await until('shutdown started', async () =>
      srv.stdout().includes('"signal":"SIGINT","msg":"shutting down"'),
    )
    srv.child.kill('SIGTERM')
    const exit = await within(10_000, srv.exited, 'exit')
    expect(exit).toEqual({ code: 1, signal: null })
    expect(performance.now() - t0).toBeLessThan(4000)
    expect(srv.stdout()).toContain('"msg":"second SIGTERM during shutdown: exiting now (1)"')
    expect(new StateFile(stateFile).load()?.tunables[SLEEP]).toBe('55')
    stalled.terminate()
  })
})
