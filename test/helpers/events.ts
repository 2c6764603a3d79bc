/**
 * A real server on 127.0.0.1 (port 0) with the whole app and a hub the test can reach, and a
 * websocket client that records every message. The simulation only moves when a test runs
 * the kernel; waiting here is only ever for the network.
 */
import type { FastifyInstance } from 'fastify'
import { expect } from 'vitest'
import WebSocket from 'ws'
import { EventHub, type HubOptions } from '../../src/events/hub.ts'
import { serverMessages } from '../../src/events/protocol.ts'
import { SimRunner } from '../../src/host/runner.ts'
import { LOOPBACK_POLICY } from '../../src/http/browsers.ts'
import { DEMO_CONFIG, DEMO_PROCESSES } from '../../src/kernel/demo.ts'
import { Kernel } from '../../src/kernel/kernel.ts'
import type { EventStreamOptions } from '../../src/plugins/events.ts'
import { sysfsTable } from '../../src/sysfs/table.ts'
import { appServer } from './app.ts'

export interface Served {
  readonly server: FastifyInstance
  readonly kernel: Kernel
  readonly hub: EventHub
  readonly port: number
  /** ws://127.0.0.1:port/events */
  readonly url: string
  close(): Promise<void>
}

export interface ServeOptions {
  readonly hub?: HubOptions
  readonly events?: Omit<EventStreamOptions, 'hub'>
  readonly token?: string
  readonly readToken?: string
  /** Origins besides the server's own whose pages may open the stream (ALLOWED_ORIGINS). */
  readonly allowedOrigins?: readonly string[]
  /** Build the kernel (default: the demo machine, which emits ~300k events/s). */
  readonly kernel?: () => Kernel
}

export function demoKernel(): Kernel {
  const k = new Kernel(DEMO_CONFIG)
  for (const p of DEMO_PROCESSES) k.exec(p)
  return k
}

export async function serve(opts: ServeOptions = {}): Promise<Served> {
  const kernel = (opts.kernel ?? demoKernel)()
  const runner = new SimRunner(kernel, { mode: 'paused' })
  const hub = new EventHub(kernel, opts.hub)
  const { server } = await appServer({
    kernel,
    runner,
    token: opts.token,
    readToken: opts.readToken,
    browsers: { ...LOOPBACK_POLICY, allowedOrigins: opts.allowedOrigins ?? [] },
    events: { ...opts.events, hub },
  })
  await server.listen({ host: '127.0.0.1', port: 0 })
  const port = (server.server.address() as { port: number }).port
  return {
    server,
    kernel,
    hub,
    port,
    url: `ws://127.0.0.1:${port}/events`,
    close: async () => {
      runner.close()
      await server.close()
    },
  }
}

/** Polls `cond` (network progress only) until it holds, or fails after `ms`. */
export async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 2))
  }
}

// biome-ignore lint/suspicious/noExplicitAny: messages are checked against their schemas
export type Msg = Record<string, any>

const schemas = serverMessages(sysfsTable(new Kernel(DEMO_CONFIG)))

/** A websocket client that keeps every message, each checked against its protocol schema. */
export class Client {
  readonly msgs: Msg[] = []
  readonly closed: Promise<{ code: number; reason: string }>
  code: number | null = null

  /** Socket errors (writing after the server closed, say): recorded, not thrown. */
  readonly errors: Error[] = []

  constructor(readonly ws: WebSocket) {
    ws.on('error', (err) => this.errors.push(err))
    ws.on('message', (data, isBinary) => {
      expect(isBinary).toBe(false)
      const msg = JSON.parse(String(data)) as Msg
      const schema = schemas[msg.type as keyof typeof schemas]
      expect(schema, `message type ${msg.type}`).toBeDefined()
      const r = schema.safeParse(msg)
      expect(r.success, r.success ? '' : `${msg.type}: ${r.error.message}`).toBe(true)
      this.msgs.push(msg)
    })
    this.closed = new Promise((resolve) =>
      ws.on('close', (code, reason) => {
        this.code = code
        resolve({ code, reason: String(reason) })
      }),
    )
  }

  static async open(url: string, options: WebSocket.ClientOptions = {}, protocols?: string[]) {
    const c = new Client(new WebSocket(url, protocols, options))
    await new Promise<void>((resolve, reject) => {
      c.ws.once('open', () => resolve())
      c.ws.once('unexpected-response', (_req, res) =>
        reject(new Error(`Unexpected server response: ${res.statusCode}`)),
      )
      c.ws.once('close', () => reject(c.errors[0] ?? new Error('closed before open')))
    })
    return c
  }

  of(type: string): Msg[] {
    return this.msgs.filter((m) => m.type === type)
  }

  /** The position the messages so far leave the client at (a resume may move it back). */
  position(): number {
    let p = 0
    for (const m of this.msgs) {
      if (m.type === 'batch' || m.type === 'lost') p = m.to_seq
      if (m.type === 'snapshot' || m.type === 'subscribed' || m.type === 'heartbeat') p = m.seq
    }
    return p
  }

  async waitFor(pred: (m: Msg) => boolean, what: string): Promise<Msg> {
    await until(() => this.msgs.some(pred), what)
    return this.msgs.find(pred) as Msg
  }

  send(msg: unknown): void {
    this.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg))
  }
}

/**
 * Runs the kernel until the ring has recorded `n` more events, in 10 ms steps as the runner's
 * slices would, flushing after each and waiting until every client in `readers` has been
 * sent everything so far (the network, not the simulation, is what is waited for).
 */
export async function pump(s: Served, n: number, readers: readonly Client[] = []): Promise<void> {
  const target = s.hub.ring.last + n
  for (let i = 0; i < 100_000 && s.hub.ring.last < target; i++) {
    s.kernel.run(s.kernel.now + 10)
    s.hub.flush()
    const last = s.hub.ring.last
    await until(() => readers.every((c) => c.position() >= last), `readers at ${last}`)
  }
  expect(s.hub.ring.last).toBeGreaterThanOrEqual(target)
}
