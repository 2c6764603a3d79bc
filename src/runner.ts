/**
 * Drives the pure simulated kernel with real time. The kernel only moves when told to; this
 * runner decides how fast: real time × a speed factor, paused (time moves only by explicit
 * steps), or as fast as possible. Work is done in slices of bounded wall time so that the
 * event loop stays free for HTTP and websocket traffic.
 */
import type { Kernel } from './kernel/kernel.ts'

export type RunMode = 'realtime' | 'paused' | 'afap'

export interface RunnerOptions {
  readonly mode?: RunMode
  /** Virtual ms per wall ms in realtime mode. */
  readonly speed?: number
  /** Wall ms of simulation per event-loop turn at most. */
  readonly sliceMs?: number
  /** Wall ms between realtime ticks. */
  readonly tickMs?: number
}

export interface RunnerStatus {
  now: number
  mode: RunMode
  speed: number
  /** Virtual ms the simulation is behind its realtime target (0 when keeping up). */
  lagMs: number
  seed: number
}

/** Thread resumptions between wall-clock checks. */
const STEPS_PER_CHECK = 64
export const MAX_SPEED = 1e6
/** As fast as possible: virtual ms offered per run() call, and at most this many per slice. */
const AFAP_CHUNK_MS = 1000
const AFAP_CHUNKS_PER_SLICE = 64

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
  private stepping: Promise<void> = Promise.resolve()

  constructor(
    readonly kernel: Kernel,
    opts: RunnerOptions = {},
  ) {
    this.mode = opts.mode ?? 'realtime'
    this.speed = opts.speed ?? 1
    this.sliceMs = opts.sliceMs ?? 8
    this.tickMs = opts.tickMs ?? 10
    this.reanchor()
    this.schedule(0)
  }

  status(): RunnerStatus {
    return {
      now: this.kernel.now,
      mode: this.mode,
      speed: this.speed,
      lagMs: this.lag,
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

  /** Advances virtual time by `ms` (any mode), in bounded slices; resolves when done. */
  step(ms: number): Promise<void> {
    const run = async () => {
      const until = this.kernel.now + ms
      while (!this.closed && !this.sliceUntil(until)) await new Promise((r) => setImmediate(r))
      this.reanchor()
    }
    this.stepping = this.stepping.then(run)
    return this.stepping
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
    // Unref'd: the simulation alone never keeps the process alive.
    this.timer =
      delay > 0
        ? { kind: 'timeout', h: setTimeout(fn, delay).unref() }
        : { kind: 'immediate', h: setImmediate(fn).unref() }
  }

  /** Runs toward `until` for at most one slice of wall time; true when reached. */
  private sliceUntil(until: number): boolean {
    const deadline = performance.now() + this.sliceMs
    for (;;) {
      if (this.kernel.run(until, STEPS_PER_CHECK)) return true
      if (performance.now() >= deadline) return false
    }
  }

  private tick(): void {
    if (this.mode === 'afap') {
      const deadline = performance.now() + this.sliceMs
      for (let i = 0; i < AFAP_CHUNKS_PER_SLICE && performance.now() < deadline; i++) {
        this.kernel.run(this.kernel.now + AFAP_CHUNK_MS, STEPS_PER_CHECK)
      }
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
