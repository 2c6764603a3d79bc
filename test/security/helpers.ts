/**
 * The security suite's server: the real process (src/server.ts) on 127.0.0.1, port 0, on the
 * small machine with a paused clock, so that nothing changes unless a request changes it;
 * requests sent with exactly the headers a browser (or curl) sends, Host included; and the
 * whole observable state (every sysfs, procfs and tracefs file, the threads, the processes,
 * the clock) read in one go to compare before and after.
 */
import { request } from 'node:http'
import { afterAll, beforeAll } from 'vitest'
import WebSocket from 'ws'
import {
  NO_SHEDDING,
  type ServerProcess,
  smallConfigFile,
  startServer,
  tempDir,
} from '../helpers/process.ts'

export interface Answer {
  readonly status: number
  readonly headers: Record<string, string | string[] | undefined>
  readonly body: string
  /** Wall ms from sending to the end of the answer. */
  readonly ms: number
}

/** One request with exactly `headers` (Host among them when given) on a fresh connection. */
export function send(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body = '',
): Promise<Answer> {
  const start = performance.now()
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        headers,
        agent: false,
        setHost: !('host' in headers),
      },
      (res) => {
        let text = ''
        res.setEncoding('latin1')
        res.on('data', (d) => {
          text += d
        })
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: text,
            ms: performance.now() - start,
          }),
        )
      },
    )
    req.on('error', reject)
    req.end(body === '' ? undefined : Buffer.from(body, 'latin1'))
  })
}

/** A websocket handshake with these headers: the HTTP status it was refused with, or 101. */
export function handshake(
  port: number,
  path: string,
  headers: Record<string, string> = {},
  protocols: string[] = [],
): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, protocols, { headers })
    ws.once('open', () => {
      ws.terminate()
      resolve(101)
    })
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0)
      res.resume()
      ws.terminate()
    })
    ws.once('error', (err) => reject(err))
  })
}

/** Paths whose GET streams or changes on every read. */
const NOT_STATE = new Set(['/events', '/sys/kernel/tracing/trace_pipe'])

/** Everything a client can read, by path: compare two of these to see whether anything changed. */
export async function state(port: number, headers: Record<string, string> = {}) {
  const doc = JSON.parse((await send(port, 'GET', '/openapi.json')).body) as {
    paths: Record<string, { get?: unknown }>
  }
  const paths = Object.keys(doc.paths).filter(
    (p) => doc.paths[p].get !== undefined && !p.includes('{') && !NOT_STATE.has(p),
  )
  const processes = (
    await send(port, 'GET', '/processes', { accept: 'application/json', ...headers })
  ).body
  const pids = (JSON.parse(processes) as { pid: number }[]).map((p) => p.pid)
  for (const pid of pids) paths.push(`/processes/${pid}`, `/proc/${pid}/status`)
  const out: Record<string, string> = {}
  for (const p of paths) {
    const a = await send(port, 'GET', p, { accept: 'application/json', ...headers })
    out[p] = `${a.status} ${a.body}`
  }
  return out
}

/** A real server for the tests of a file, with `env` on top of the suite's defaults. */
export function realServer(env: Record<string, string> = {}): () => ServerProcess {
  let server: ServerProcess | undefined
  const dir = tempDir('kscand-sim-security-')
  beforeAll(async () => {
    server = await startServer({
      ...NO_SHEDDING,
      CONFIG_FILE: smallConfigFile(dir.dir),
      SIM_MODE: 'paused',
      LOG_LEVEL: 'info',
      ...env,
    })
  })
  afterAll(async () => {
    server?.child.kill('SIGTERM')
    await server?.exited
    dir.cleanup()
  })
  return () => server as ServerProcess
}
