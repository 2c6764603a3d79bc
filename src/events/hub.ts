/**
 * The event hub: records what the kernel's tracepoints emit into the ring (tracing_on,
 * buffer_size_kb), and runs the clock that drains it to the websocket subscribers (fanout.ts)
 * and to trace_pipe readers (trace-pipe.ts). Errors it catches never reach the kernel.
 */
import { performance } from 'node:perf_hooks'
import type { Readable } from 'node:stream'
import type { Kernel } from '../kernel/kernel.ts'
import type { TraceEvent } from '../kernel/trace.ts'
import type { SysfsFile } from '../sysfs/file.ts'
import { sysfsTable } from '../sysfs/table.ts'
import { historyJson } from '../views/history.ts'
import { FanOut, FLUSH_EVENTS } from './fanout.ts'
import { CLOSE, HEARTBEAT_MS } from './protocol.ts'
import { EventRing, SLOT_BYTES } from './ring.ts'
import { nodes, processes, threads, tracing, tunables } from './state.ts'
import { TracePipe } from './trace-pipe.ts'

export interface HubOptions {
  /** Events the ring holds (default 2^18, about 21 MB); the defaults are in DEFAULTS. */
  readonly ringCapacity?: number
  /** bufferedAmount above which a subscriber's batches are counted as lost. */
  readonly highWaterBytes?: number
  /** How long a subscriber may stay above the high-water mark before 1013. */
  readonly stuckMs?: number
  readonly heartbeatMs?: number
  readonly statsMs?: number
  /** ws ping interval; a peer that did not answer the previous ping is cut. */
  readonly pingMs?: number
  readonly maxSubscribers?: number
  /** Called with errors the hub catches so that they never reach the simulated kernel. */
  readonly onError?: (err: unknown) => void
  /** The kernel's sysfs table (the app's), whose writable files the snapshot carries. */
  readonly files?: readonly SysfsFile[]
}

export const DEFAULT_RING_CAPACITY = 1 << 18

export const DEFAULTS = {
  ringCapacity: DEFAULT_RING_CAPACITY,
  highWaterBytes: 1 << 20,
  stuckMs: 30_000,
  heartbeatMs: HEARTBEAT_MS,
  statsMs: 1000,
  pingMs: 30_000,
  maxSubscribers: 64,
} as const

const TICK_MS = 25

export class EventHub extends FanOut {
  readonly files: readonly SysfsFile[]
  /** buffer_size_kb as last written. */
  bufferKb: number
  private readonly pipe: TracePipe
  private readonly onError: (err: unknown) => void
  private unsubscribe: (() => void) | null = null
  private soon = false
  private readonly timer: NodeJS.Timeout

  constructor(kernel: Kernel, opts: HubOptions = {}) {
    super(kernel, new EventRing(opts.ringCapacity ?? DEFAULTS.ringCapacity), {
      highWaterBytes: opts.highWaterBytes ?? DEFAULTS.highWaterBytes,
      stuckMs: opts.stuckMs ?? DEFAULTS.stuckMs,
      heartbeatMs: opts.heartbeatMs ?? DEFAULTS.heartbeatMs,
      statsMs: opts.statsMs ?? DEFAULTS.statsMs,
      pingMs: opts.pingMs ?? DEFAULTS.pingMs,
      maxSubscribers: opts.maxSubscribers ?? DEFAULTS.maxSubscribers,
    })
    this.bufferKb = Math.ceil((this.ring.capacity * SLOT_BYTES) / 1024)
    this.onError = opts.onError ?? ((err) => console.error(err))
    this.files = opts.files ?? sysfsTable(kernel)
    this.pipe = new TracePipe(this.ring, () => this.flushSoon())
    this.setTracingOn(true)
    this.timer = setInterval(() => this.guard(() => this.tick(false)), TICK_MS)
    this.timer.unref()
  }

  // ---- recording --------------------------------------------------------------------------

  get tracingOn(): boolean {
    return this.unsubscribe !== null
  }

  /** tracing_on: with it off nothing is recorded, and no event is even generated. */
  setTracingOn(on: boolean): void {
    if (on && !this.unsubscribe) this.unsubscribe = this.kernel.tracer.subscribe(this.sink)
    if (!on && this.unsubscribe) {
      this.unsubscribe()
      this.unsubscribe = null
    }
  }

  private readonly sink = (ev: TraceEvent): void => {
    const seq = this.ring.push(ev)
    if (seq - this.flushedTo >= FLUSH_EVENTS) this.flushSoon()
    // Never let a group fall out of the ring, even within one long simulation slice.
    if (seq - this.minSeen >= this.ring.capacity >> 1) this.guard(() => this.flushGroups(true))
  }

  /** buffer_size_kb: resizes the ring, keeping the newest events that fit. */
  setBufferKb(kb: number): void {
    const capacity = Math.max(1, Math.floor((kb * 1024) / SLOT_BYTES))
    this.flushGroups(true)
    this.ring.resize(capacity)
    this.bufferKb = kb
    this.pipe.sync()
  }

  /** The state a new stream starts from, at the ring's newest position. */
  snapshot(subscription: unknown) {
    const k = this.kernel
    return {
      type: 'snapshot' as const,
      epoch: this.ring.epoch,
      seq: this.ring.last,
      now: k.now,
      subscription,
      threads: threads(k),
      tunables: tunables(this.files),
      counters: k.vmstat.snapshot(),
      processes: processes(k),
      nodes: nodes(k),
      tracing: tracing(k, this.tracingOn),
      history: historyJson(k),
    }
  }

  // ---- the clock --------------------------------------------------------------------------

  /** Flushes every group now (tests and benchmarks; the timers do it otherwise). */
  flush(): void {
    this.tick(true)
  }

  protected flushSoon(): void {
    if (this.soon) return
    this.soon = true
    setImmediate(() => {
      this.soon = false
      this.guard(() => this.tick(true))
    })
  }

  private guard(fn: () => void): void {
    try {
      fn()
    } catch (err) {
      this.onError(err)
    }
  }

  private tick(all: boolean): void {
    this.tend(performance.now(), all)
    this.pipe.feed()
  }

  /** Stops the timers and the recording, closes subscribers (1001) and ends trace_pipe reads. */
  shutdown(): void {
    clearInterval(this.timer)
    this.setTracingOn(false)
    for (const m of this.members) this.close(m, CLOSE.goingAway, 'server shutting down')
    this.pipe.end()
  }

  // ---- trace_pipe -------------------------------------------------------------------------

  /** A reader of trace_pipe: a stream of ftrace lines that consumes from the shared position. */
  openPipe(): Readable {
    return this.pipe.open()
  }

  /** Open trace_pipe readers. */
  get pipeReaders(): number {
    return this.pipe.size
  }

  /** The ring as trace_pipe sees it, for per_cpu/cpu0/stats. */
  pipeStats(): { entries: number; overrun: number; oldestUs: number; readEvents: number } {
    return this.pipe.stats()
  }
}
