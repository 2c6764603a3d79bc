/**
 * Drives the pure simulated kernel with real time. The kernel only moves when told to; this
 * runner decides how fast: real time × a speed factor, paused (time moves only by explicit
 * steps), or as fast as possible. Work is done in slices of bounded wall time so that the
 * event loop stays free for HTTP and websocket traffic.
 *
 * Steps run one after the other, at most `maxQueuedSteps` running or waiting (`step`
 * throws QueueFullError beyond). A step ends early when its signal aborts (its client went
 * away) or the runner closes (shutdown), and says so.
 */
import type { Kernel } from '../kernel/kernel.ts'
import { MAX_SPEED } from '../schemas/sim.ts'
import { BoundedQueue } from './queue.ts'

export type RunMode = 'realtime' | 'paused' | 'afap'

export interface RunnerOptions {
  readonly mode?: RunMode
  /** Virtual ms per wall ms in realtime mode. */
  readonly speed?: number
  /** Wall ms of simulation per event-loop turn at most. */
  readonly sliceMs?: number
  /** Wall ms between realtime ticks. */
  readonly tickMs?: number
  /** Steps running or waiting, at most. */
  readonly maxQueuedSteps?: number
}

/** How a step ended: it reached its time, its signal aborted, or the runner closed. */
export type StepEnd = 'done' | 'cancelled' | 'closed'

export interface RunnerStatus {
  now: number
  mode: RunMode
  speed: number
  /** Virtual ms the simulation is behind its realtime target (0 when keeping up). */
  lag_ms: number
  seed: number
}

/** Default of STEP_QUEUE. */
export const DEFAULT_STEP_QUEUE = 16
/** As fast as possible: at most this much virtual time per slice (an idle machine races). */
const AFAP_MS_PER_SLICE = 64_000

export class SimRunner {
  private mode: RunMode
  private speed: number
  private readonly sliceMs: number
  private readonly tickMs: number
  private anchorWall = 0
  private anchorVirtual = 0
  private lag = 0
  private timer:
    | { kind: 'timeout'; h: NodeJS.Timeout }
    | { kind: 'immediate'; h: NodeJS.Immediate }
    | null = null
  private closed = false
  private readonly steps: BoundedQueue

  constructor(
    readonly kernel: Kernel,
    opts: RunnerOptions = {},
  ) {
    this.mode = opts.mode ?? 'realtime'
    this.speed = opts.speed ?? 1
    this.sliceMs = opts.sliceMs ?? 2
    this.tickMs = opts.tickMs ?? 10
    this.steps = new BoundedQueue(opts.maxQueuedSteps ?? DEFAULT_STEP_QUEUE)
    this.reanchor()
    this.schedule(0)
  }

  status(): RunnerStatus {
    return {
      now: this.kernel.now,
      mode: this.mode,
      speed: this.speed,
      lag_ms: this.lag,
      seed: this.kernel.seed,
    }
  }

  setMode(mode: RunMode): void {
    this.mode = mode
    this.reanchor()
    this.schedule(0)
  }

  setSpeed(speed: number): void {
    if (!(speed > 0 && speed <= MAX_SPEED))
      throw new RangeError(`speed must be in (0, ${MAX_SPEED}]`)
    this.speed = speed
    this.reanchor()
  }

  /**
   * Advances virtual time by `ms` (any mode), in bounded slices, after the steps before it;
   * resolves with how it ended. Rejects with QueueFullError when too many are queued.
   */
  async step(ms: number, signal?: AbortSignal): Promise<StepEnd> {
    const release = await this.steps.acquire()
    try {
      const until = this.kernel.now + ms
      for (;;) {
        if (this.closed) return 'closed'
        if (signal?.aborted) return 'cancelled'
        if (this.sliceUntil(until)) return 'done'
        await new Promise((r) => setImmediate(r))
      }
    } finally {
      this.reanchor()
      release()
    }
  }

  close(): void {
    this.closed = true
    this.clear()
  }

  private reanchor(): void {
    this.anchorWall = performance.now()
    this.anchorVirtual = this.kernel.now
    this.lag = 0
  }

  private clear(): void {
    if (this.timer?.kind === 'timeout') clearTimeout(this.timer.h)
    if (this.timer?.kind === 'immediate') clearImmediate(this.timer.h)
    this.timer = null
  }

  private schedule(delay: number): void {
    this.clear()
    if (this.closed || this.mode === 'paused') return
    const fn = () => {
      this.timer = null
      this.tick()
    }
    // The paced tick is unref'd: a simulation at real time alone never keeps the process
    // alive. The catch-up immediate is not: Node lets the event loop block in its poll
    // phase while only unref'd immediates are queued, which left afap crawling at 0.3×
    // real time in a process with nothing else to do. close() cancels it.
    this.timer =
      delay > 0
        ? { kind: 'timeout', h: setTimeout(fn, delay).unref() }
        : { kind: 'immediate', h: setImmediate(fn) }
  }

  /**
   * Runs toward `until` for at most one slice of wall time; true when reached. The clock is
   * read after every thread resumption: most take a microsecond, but one can take
   * milliseconds, and a request waits for the whole slice.
   */
  private sliceUntil(until: number): boolean {
    const deadline = performance.now() + this.sliceMs
    for (;;) {
      if (this.kernel.run(until, 1)) return true
      if (performance.now() >= deadline) return false
    }
  }

  private tick(): void {
    if (this.mode === 'afap') {
      this.sliceUntil(this.kernel.now + AFAP_MS_PER_SLICE)
      this.schedule(0)
      return
    }
    const target = Math.floor(
      this.anchorVirtual + (performance.now() - this.anchorWall) * this.speed,
    )
    const reached = this.sliceUntil(target)
    this.lag = Math.max(0, target - this.kernel.now)
    this.schedule(reached ? this.tickMs : 0)
  }
}
