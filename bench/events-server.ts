/**
 * The server side of the event-stream bench, in its own process so that its RSS and CPU are
 * its own and the clients (bench/events.bench.ts) do not share its event loop. Driven over
 * IPC, one phase at a time:
 * - `hub`: the whole app on a quiet demo machine, fed by replaying a recorded demo trace
 *   through the kernel's trace sink, as fast as the reading clients acknowledge;
 * - `raw`: a bare `ws` server broadcasting the very batch frames the hub builds for that
 *   trace, paced the same way;
 * - `realtime`: the demo machine at real-time speed with every event on, as `npm start`.
 * Everything listens on 127.0.0.1 and every loop is bounded in time.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks'
import { setImmediate as yieldLoop } from 'node:timers/promises'
import Fastify, { type FastifyInstance } from 'fastify'
import { WebSocketServer } from 'ws'
import { app } from '../src/app.ts'
import { FLUSH_EVENTS } from '../src/events/fanout.ts'
import { compileFilter } from '../src/events/filter.ts'
import { EventHub, type HubOptions } from '../src/events/hub.ts'
import { SimRunner } from '../src/host/runner.ts'
import { DEMO_CONFIG, DEMO_PROCESSES } from '../src/kernel/demo.ts'
import { Kernel } from '../src/kernel/kernel.ts'
import { EV, EVENTS, type TraceEvent } from '../src/kernel/trace.ts'

export type Command =
  | { cmd: 'hub'; hub: HubOptions }
  | { cmd: 'raw' }
  | { cmd: 'produce'; ms: number; window: number; gcEveryMs?: number }
  | { cmd: 'realtime'; ms: number }
  | { cmd: 'stop' }
  | { cmd: 'ack'; delivered: number }

export interface Produced {
  produced: number
  /** CPU time the server process used while producing, in seconds. */
  cpuS: number
  rssStartMiB: number
  rssPeakMiB: number
  /** Live memory right after a full collection: at the start and the most since (gcEveryMs). */
  liveStartMiB: number
  liveMaxMiB: number
  /** Subscribers the hub had stop queueing for: their bufferedAmount and lost count. */
  stuck: { bufferedAmount: number; lost: number }[]
}

export interface Realtime {
  wallS: number
  virtualS: number
  events: number
  scanMmStart: number
  cpuShare: number
  maxLagMs: number
  /** Lag at the end of the run: 0 once the simulation has caught up. */
  endLagMs: number
  loopDelayP99Ms: number
  /** The same process running the demo in real time with tracing off. */
  untracedLoopDelayP99Ms: number
}

const send = (m: unknown) => process.send?.(m)
const mib = () => process.memoryUsage().rss / 2 ** 20

function demoKernel(autostart: boolean): Kernel {
  const k = new Kernel({ ...DEMO_CONFIG, autostart })
  for (const p of DEMO_PROCESSES) k.exec(p)
  return k
}

/** The first 200 000 events of the demo machine's trace, every event on. */
function record(): TraceEvent[] {
  const k = demoKernel(true)
  const out: TraceEvent[] = []
  const unsubscribe = k.tracer.subscribe((e) => out.push(e))
  while (out.length < 200_000) k.run(k.now + 100)
  unsubscribe()
  return out.slice(0, 200_000)
}

/** Live memory (V8 heap in use plus buffers) after a full collection (--expose-gc). */
function liveMiB(): number {
  ;(globalThis.gc as () => void)()
  const u = process.memoryUsage()
  return (u.heapUsed + u.external) / 2 ** 20
}

const trace = record()
let acked = 0
/** Resolves the producer's wait for the next acknowledgement. */
let ackWaiter: (() => void) | null = null
/** Events produced since the phase started (clients count from their connection on). */
let produced = 0
let server: FastifyInstance | null = null
let hub: EventHub | null = null
let kernel: Kernel | null = null
let raw: WebSocketServer | null = null
/** The hub's batch frames for the recorded trace: what the raw server broadcasts. */
let frames: { buf: Buffer; count: number }[] = []

async function startHub(opts: HubOptions): Promise<number> {
  kernel = demoKernel(false)
  const runner = new SimRunner(kernel, { mode: 'paused' })
  hub = new EventHub(kernel, opts)
  server = Fastify({ logger: false })
  server.addHook('onClose', async () => runner.close())
  await server.register(app, { kernel, runner, events: { hub } })
  await server.listen({ host: '127.0.0.1', port: 0 })
  return (server.server.address() as { port: number }).port
}

function buildFrames(): void {
  const k = demoKernel(false)
  const h = new EventHub(k, { ringCapacity: trace.length })
  for (const e of trace) k.tracer.emit(e.ts, e.pid, e.comm, e.id, e.args as never, e.owner)
  const all = compileFilter({ events: ['*'], pids: null, format: 'json', batch_ms: 50 })
  frames = h.frames(all, 1, trace.length)
  h.shutdown()
}

async function startRaw(): Promise<number> {
  if (frames.length === 0) buildFrames()
  raw = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false })
  await new Promise((r) => raw?.once('listening', r))
  return (raw.address() as { port: number }).port
}

/**
 * Produces for `ms`, never more than `window` events ahead of what the slowest reading
 * client acknowledged: into the hub through the kernel's trace sink, or as raw broadcasts.
 */
async function produce(ms: number, window: number, gcEveryMs = 0): Promise<Produced> {
  const before = produced
  let i = 0
  const liveStart = gcEveryMs ? liveMiB() : 0
  let liveMax = liveStart
  let lastGc = performance.now()
  const rssStart = mib()
  let rssPeak = rssStart
  const cpu0 = process.cpuUsage()
  let lastSample = performance.now()
  const end = performance.now() + ms
  while (performance.now() < end) {
    if (produced - acked >= window) {
      // Wait for the readers (bounded: the ack loop runs every few ms while the phase lasts).
      await Promise.race([
        new Promise<void>((r) => {
          ackWaiter = r
        }),
        new Promise((r) => setTimeout(r, 50)),
      ])
    } else {
      if (kernel) {
        const t = kernel.tracer
        // A chunk the size of the hub's early-flush threshold: at a high event rate the size
        // cap, not the batch timer, decides when batches go out.
        for (let n = 0; n < FLUSH_EVENTS; n++, i = (i + 1) % trace.length) {
          const e = trace[i]
          t.emit(e.ts, e.pid, e.comm, e.id, e.args as never)
        }
        produced += FLUSH_EVENTS
      } else if (raw) {
        // As many frames per turn as the hub flushes per chunk.
        for (let n = 0; n < FLUSH_EVENTS; i = (i + 1) % frames.length) {
          const f = frames[i]
          for (const c of raw.clients) c.send(f.buf, { binary: false })
          n += f.count
          produced += f.count
        }
      }
    }
    if (performance.now() - lastSample > 250) {
      rssPeak = Math.max(rssPeak, mib())
      lastSample = performance.now()
    }
    if (gcEveryMs && performance.now() - lastGc > gcEveryMs) {
      liveMax = Math.max(liveMax, liveMiB())
      lastGc = performance.now()
    }
    // Let the hub flush and the sockets write.
    await yieldLoop()
  }
  const stuck = [...(hub?.members ?? [])]
    .filter((m) => m.stuckSince !== null)
    .map((m) => ({ bufferedAmount: m.peer.bufferedAmount, lost: m.lostTotal }))
  const cpu = process.cpuUsage(cpu0)
  return {
    produced: produced - before,
    cpuS: (cpu.user + cpu.system) / 1e6,
    rssStartMiB: rssStart,
    rssPeakMiB: Math.max(rssPeak, mib()),
    liveStartMiB: liveStart,
    liveMaxMiB: gcEveryMs ? Math.max(liveMax, liveMiB()) : 0,
    stuck,
  }
}

/** The demo at real-time speed, untraced and then with every event enabled in tracefs. */
async function realtime(ms: number): Promise<Realtime> {
  kernel = demoKernel(true)
  const runner = new SimRunner(kernel, { mode: 'paused' })
  hub = new EventHub(kernel)
  server = Fastify({ logger: false })
  server.addHook('onClose', async () => runner.close())
  await server.register(app, { kernel, runner, events: { hub } })
  await server.listen({ host: '127.0.0.1', port: 0 })
  const counts = new Array<number>(EVENTS.length).fill(0)
  // Counts what is generated; selects nothing until the traced phase (every event is off at
  // boot, and an untraced kernel generates nothing).
  const counted = new Uint8Array(EVENTS.length)
  kernel.tracer.subscribe((e) => counts[e.id]++, counted)
  send({ port: (server.server.address() as { port: number }).port })
  const loopDelayP99 = async (wait: number) => {
    const h = monitorEventLoopDelay({ resolution: 5 })
    h.enable()
    await new Promise((r) => setTimeout(r, wait))
    h.disable()
    return h.percentile(99) / 1e6
  }
  runner.setMode('realtime')
  await new Promise((r) => setTimeout(r, 1000))
  const untraced = await loopDelayP99(5000)
  // echo '*:*' > set_event
  hub.expand()
  hub.setTraceEvents(
    EVENTS.map((_, i) => i),
    true,
  )
  counted.fill(1)
  kernel.tracer.update()
  // Warm-up, then measure.
  await new Promise((r) => setTimeout(r, 2000))
  const delay = monitorEventLoopDelay({ resolution: 5 })
  delay.enable()
  const k = kernel
  const t0 = performance.now()
  const v0 = k.now
  const cpu0 = process.cpuUsage()
  const e0 = hub.traceRing.last
  const s0 = counts[EV.kmem_scan_mm_start]
  let maxLag = 0
  while (performance.now() - t0 < ms) {
    await new Promise((r) => setTimeout(r, 100))
    maxLag = Math.max(maxLag, runner.status().lag_ms)
  }
  const wallS = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(cpu0)
  delay.disable()
  return {
    wallS,
    virtualS: (k.now - v0) / 1000,
    events: hub.traceRing.last - e0,
    scanMmStart: counts[EV.kmem_scan_mm_start] - s0,
    cpuShare: (cpu.user + cpu.system) / 1e6 / wallS,
    maxLagMs: maxLag,
    endLagMs: runner.status().lag_ms,
    loopDelayP99Ms: delay.percentile(99) / 1e6,
    untracedLoopDelayP99Ms: untraced,
  }
}

async function stop(): Promise<void> {
  await server?.close()
  for (const c of raw?.clients ?? []) c.terminate()
  await new Promise((r) => (raw ? raw.close(r) : r(null)))
  server = null
  hub = null
  kernel = null
  raw = null
}

process.on('message', async (m: Command) => {
  switch (m.cmd) {
    case 'ack':
      acked = m.delivered
      ackWaiter?.()
      ackWaiter = null
      return
    case 'hub':
      acked = produced = 0
      return send({ port: await startHub(m.hub) })
    case 'raw':
      acked = produced = 0
      return send({ port: await startRaw() })
    case 'produce':
      return send(await produce(m.ms, m.window, m.gcEveryMs))
    case 'realtime':
      return send(await realtime(m.ms))
    case 'stop':
      await stop()
      return send({ stopped: true })
  }
})
send({ ready: trace.length })
