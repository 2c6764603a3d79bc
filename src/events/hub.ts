/**
 * The event hub: the one consumer of the kernel's tracepoints for the app. It keeps two rings,
 * as the kernel keeps ftrace's buffer apart from perf's: tracefs's (the events enabled in
 * tracefs, while tracing_on is 1; buffer_size_kb; read by trace and trace_pipe) and the
 * stream's (the events some websocket subscription selects, whatever tracefs says, as
 * `perf record -e` enables what it records). The kernel generates the union of the two and
 * nothing else. The hub runs the clock that drains the stream's ring to the subscribers
 * (fanout.ts) and tracefs's to trace_pipe readers (trace-pipe.ts). Errors it catches never
 * reach the kernel.
 */
import { performance } from 'node:perf_hooks'
import type { Readable } from 'node:stream'
import type { Kernel } from '../kernel/kernel.ts'
import { EVENTS, type TraceEvent } from '../kernel/trace.ts'
import type { SysfsFile } from '../sysfs/file.ts'
import { sysfsTable } from '../sysfs/table.ts'
import { historyJson } from '../views/history.ts'
import { FanOut, FLUSH_EVENTS } from './fanout.ts'
import { CLOSE, HEARTBEAT_MS } from './protocol.ts'
import { EventRing, SLOT_BYTES } from './ring.ts'
import { nodes, processes, threads, tracing, tunables } from './state.ts'
import { type PipeStats, TracePipe } from './trace-pipe.ts'

export interface HubOptions {
  /** Events the stream's ring holds (default 2^18, about 25 MB); the defaults are in DEFAULTS. */
  readonly ringCapacity?: number
  /**
   * Events tracefs's ring holds once expanded (tests); by default buffer_size_kb's 1408 KiB
   * worth.
   */
  readonly traceCapacity?: number
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

/** trace_buf_size, the kernel's default buffer_size_kb once the buffer is expanded. */
export const TRACE_BUF_KB = 1408
/** What buffer_size_kb reads before the first use: two 4080-byte ring pages (8160 B >> 10). */
export const UNEXPANDED_KB = 7

/** Events a ring of `kb` KiB holds (each takes SLOT_BYTES), at least one. */
export function kbCapacity(kb: number): number {
  return Math.max(1, Math.floor((kb * 1024) / SLOT_BYTES))
}

export class EventHub extends FanOut {
  readonly files: readonly SysfsFile[]
  /** tracefs's ring: what trace and trace_pipe read. */
  readonly traceRing: EventRing
  /** tracefs's per-event enables (events/…/enable, set_event): 1 where enabled. */
  readonly traceEvents = new Uint8Array(EVENTS.length)
  /** buffer_size_kb as last written (UNEXPANDED_KB until the buffer is expanded). */
  bufferKb = UNEXPANDED_KB
  /** Whether the buffer was expanded (the first enable, tracer or size write does it). */
  expanded = false
  /** buffer_size_kb once expanded: trace_buf_size, or what `traceCapacity` makes of it. */
  readonly expandedKb: number
  private on = true
  private readonly traceCapacity: number
  private readonly pipe: TracePipe
  private readonly onError: (err: unknown) => void
  /** The events the kernel generates for the hub: tracefs's (while on) and the stream's. */
  private readonly wanted = new Uint8Array(EVENTS.length)
  private readonly unsubscribe: () => void
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
    this.traceCapacity = opts.traceCapacity ?? kbCapacity(TRACE_BUF_KB)
    this.expandedKb =
      opts.traceCapacity === undefined
        ? TRACE_BUF_KB
        : Math.ceil((opts.traceCapacity * SLOT_BYTES) / 1024)
    this.traceRing = new EventRing(kbCapacity(UNEXPANDED_KB))
    this.onError = opts.onError ?? ((err) => console.error(err))
    this.files = opts.files ?? sysfsTable(kernel)
    this.pipe = new TracePipe(this.traceRing, () => this.flushSoon())
    this.unsubscribe = kernel.tracer.subscribe(this.sink, this.wanted)
    this.timer = setInterval(() => this.guard(() => this.tick(false)), TICK_MS)
    this.timer.unref()
  }

  // ---- recording --------------------------------------------------------------------------

  get tracingOn(): boolean {
    return this.on
  }

  /**
   * tracing_on: with it off nothing is written into tracefs's ring (and an event only
   * tracefs enables is not even generated); the stream is not affected.
   */
  setTracingOn(on: boolean): void {
    this.on = on
    this.selectionChanged()
  }

  /** Sets tracefs's enable of each event in `ids`. */
  setTraceEvents(ids: readonly number[], on: boolean): void {
    for (const id of ids) this.traceEvents[id] = on ? 1 : 0
    this.selectionChanged()
  }

  /**
   * The first use of tracefs (an enable, set_event, current_tracer or buffer_size_kb
   * write) expands the buffer from its boot size to trace_buf_size (tracing_update_buffers).
   */
  expand(): void {
    if (this.expanded) return
    this.expanded = true
    this.bufferKb = this.expandedKb
    this.traceRing.resize(this.traceCapacity)
  }

  protected selectionChanged(): void {
    for (let i = 0; i < this.wanted.length; i++) {
      this.wanted[i] = (this.on ? this.traceEvents[i] : 0) | this.selected[i]
    }
    this.kernel.tracer.update()
  }

  private readonly sink = (ev: TraceEvent): void => {
    if (this.on && this.traceEvents[ev.id] === 1) this.traceRing.push(ev)
    if (this.selected[ev.id] !== 1) return
    const seq = this.ring.push(ev)
    if (seq - this.flushedTo >= FLUSH_EVENTS) this.flushSoon()
    // Never let a group fall out of the ring, even within one long simulation slice.
    if (seq - this.minSeen >= this.ring.capacity >> 1) this.guard(() => this.flushGroups(true))
  }

  /** buffer_size_kb: resizes tracefs's ring, keeping the newest events that fit. */
  setBufferKb(kb: number): void {
    this.expanded = true
    this.traceRing.resize(kbCapacity(kb))
    this.bufferKb = kb
    this.pipe.sync()
  }

  /** Empties tracefs's ring and its counts (a truncating write of `trace`). */
  clearTrace(): void {
    this.pipe.clear()
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
      tracing: tracing(this.traceEvents, this.on),
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
    this.unsubscribe()
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

  /** tracefs's ring as trace_pipe sees it, for per_cpu/cpu0/stats and trace's header. */
  pipeStats(): PipeStats {
    return this.pipe.stats()
  }

  /** The lines of `trace`: the unconsumed events, read without consuming them. */
  traceLines(): string[] {
    return this.pipe.peek()
  }
}
