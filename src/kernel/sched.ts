/**
 * The virtual clock and a cooperative scheduler for simulated kernel threads.
 *
 * Time is in jiffies at HZ=1000 (milliseconds). A kthread is a generator: it runs
 * synchronously until it yields one of the kernel's blocking primitives (msleep,
 * wait_event_timeout, cond_resched). Work a thread does is charged as CPU time; when a thread
 * yields with at least one jiffy of CPU time owed, the scheduler lets the clock move on that
 * far before the thread continues, so a busy thread (scan_sleep_ms = 0) still sees time pass.
 * Nothing here reads a real clock or sets a real timer: a runner outside the core decides
 * how fast virtual time goes.
 */
import { EV, type Tracer } from './trace.ts'

export type ThreadState = 'running' | 'sleeping' | 'paused' | 'stopped'

export class WaitQueue {
  readonly waiters = new Set<Kthread>()
}

export type Wait =
  | { readonly kind: 'resched' }
  | { readonly kind: 'host' }
  | { readonly kind: 'sleep'; readonly ms: number }
  | {
      readonly kind: 'wait'
      readonly wq: WaitQueue
      readonly cond: () => boolean
      /** Jiffies; Infinity waits until woken with the condition true. */
      readonly timeout: number
      /** Report the thread as 'paused' rather than 'sleeping' while it waits. */
      readonly paused?: boolean
      /** TASK_UNINTERRUPTIBLE (wait_event_timeout()), as a `sleep` (msleep()) always is. */
      readonly uninterruptible?: boolean
    }

export const RESCHED: Wait = { kind: 'resched' }

/**
 * Not a kernel operation: a point where the host may take the event loop back (Scheduler.run
 * with maxSteps returns there). The thread goes on at the same jiffy before anything else
 * runs, with its work and CPU debt as they were, so the simulation is exactly as without it.
 */
export const HOST_YIELD: Wait = { kind: 'host' }

/** Work units (PTEs, folios) after which a thread offers to reschedule. */
const RESCHED_WORK = 1 << 16
const NS_PER_JIFFY = 1_000_000

export type KthreadBody = (t: Kthread) => Generator<Wait, void, void>

export class Kthread {
  state: ThreadState = 'stopped'
  shouldStop = false
  started_at: number | null = null
  stopped_at: number | null = null
  last_wake: number | null = null
  cycles = 0
  /** CPU time charged to the thread so far, in ns (see cpuTimeNs()). */
  cpu_ns = 0
  /** Set while the thread busy-waits: the CPU is burnt from then on. */
  spinningSince: number | null = null
  last_error: string | null = null
  /** CPU time not yet turned into elapsed virtual time. */
  debtNs = 0
  work = 0
  gen: Generator<Wait, void, void> | null = null
  token = 0
  waitingOn: Wait | null = null
  pending: Wait | null = null
  /** A user task scheduled like a kthread (NUMA balancing's work): no kthread_* tracepoints. */
  userTask = false

  constructor(
    readonly comm: string,
    readonly pid: number,
    readonly body: KthreadBody,
    readonly sched: Scheduler,
  ) {}

  /** kthread_should_stop() */
  should_stop(): boolean {
    return this.shouldStop
  }

  /** Charges modelled CPU time (ns) and work units to the thread. */
  charge(ns: number, work = 1): void {
    this.debtNs += ns
    this.cpu_ns += ns
    this.work += work
  }

  /** cond_resched(): true when the thread should yield RESCHED. */
  needResched(): boolean {
    return this.work >= RESCHED_WORK || this.debtNs >= NS_PER_JIFFY
  }

  /**
   * How many more charge(unitNs) calls leave needResched() false after all but the last —
   * i.e. how many equal units of work fit before the next cond_resched() point (≥ 1).
   */
  unitsBeforeResched(unitNs: number): number {
    const byWork = RESCHED_WORK - this.work
    const byTime = unitNs > 0 ? Math.ceil((NS_PER_JIFFY - this.debtNs) / unitNs) : byWork
    return Math.max(1, Math.min(byWork, byTime))
  }

  /** Total CPU time used, including a busy-wait in progress. */
  cpuTimeNs(): number {
    const spin = this.spinningSince === null ? 0 : (this.sched.now - this.spinningSince) * 1e6
    return this.cpu_ns + spin
  }

  /** Virtual time of the thread's current instruction, in µs (ftrace timestamps). */
  nowUs(): number {
    return this.sched.now * 1000 + Math.floor(this.debtNs / 1000)
  }
}

interface Timer {
  at: number
  seq: number
  thread: Kthread | null
  token: number
  cb: (() => void) | null
}

class TimerHeap {
  private a: Timer[] = []

  get size(): number {
    return this.a.length
  }

  peek(): Timer | undefined {
    return this.a[0]
  }

  private less(x: Timer, y: Timer): boolean {
    return x.at < y.at || (x.at === y.at && x.seq < y.seq)
  }

  push(t: Timer): void {
    const a = this.a
    a.push(t)
    let i = a.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!this.less(a[i], a[p])) break
      ;[a[i], a[p]] = [a[p], a[i]]
      i = p
    }
  }

  pop(): Timer | undefined {
    const a = this.a
    const top = a[0]
    const last = a.pop()
    if (a.length > 0 && last) {
      a[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < a.length && this.less(a[l], a[m])) m = l
        if (r < a.length && this.less(a[r], a[m])) m = r
        if (m === i) break
        ;[a[i], a[m]] = [a[m], a[i]]
        i = m
      }
    }
    return top
  }
}

export class Scheduler {
  /** jiffies */
  now = 0
  /** Thread resumptions and timer callbacks run so far (what `maxSteps` counts). */
  steps = 0
  private seq = 0
  private readonly heap = new TimerHeap()
  /** A thread parked at HOST_YIELD: it runs next, before the heap. */
  private cont: Kthread | null = null

  /** The thread parked at a host yield, if any (it runs next). */
  get hostParked(): Kthread | null {
    return this.cont
  }

  constructor(private readonly tracer: Tracer) {}

  /** Creates a kthread in the stopped state (kthread_create without the wake-up). */
  kthread(comm: string, pid: number, body: KthreadBody): Kthread {
    return new Kthread(comm, pid, body, this)
  }

  /** kthread_run(). Returns false when the thread was already running. */
  start(t: Kthread): boolean {
    if (t.gen) return false
    t.shouldStop = false
    t.gen = t.body(t)
    t.state = 'running'
    t.started_at = this.now
    t.stopped_at = null
    t.last_error = null
    t.debtNs = 0
    t.work = 0
    this.trace(t, EV.kthread_start, [t.comm, t.pid])
    this.enqueue(t, this.now)
    return true
  }

  /**
   * kthread_stop(): sets should_stop, wakes the thread and runs it until it returns. The
   * thread finishes the work it is in (a scan visit, a migration drain) and leaves at its
   * next should_stop check, so no half-done state is ever visible. Sleeps it takes on the way
   * out are not waited for. Returns false when the thread was not running.
   */
  stop(t: Kthread): boolean {
    if (!t.gen) return false
    t.shouldStop = true
    if (this.cont === t) this.cont = null
    this.detach(t)
    this.resume(t, 'stop', true)
    return true
  }

  /** wake_up(): waiters whose condition now holds become runnable at the current jiffy. */
  wake_up(wq: WaitQueue): void {
    for (const t of wq.waiters) {
      const w = t.waitingOn
      if (w?.kind === 'wait' && w.cond()) {
        this.detach(t)
        this.enqueue(t, this.now, 'wake_up')
      }
    }
  }

  /**
   * Runs a thread parked at cond_resched() right now, until it blocks again: used where the
   * kernel would spin on another CPU waiting for that thread to make progress.
   */
  preempt(t: Kthread): void {
    if (!t.gen || t.waitingOn || (t.pending && t.pending.kind !== 'resched')) return
    if (this.cont === t) this.cont = null
    this.detach(t)
    t.pending = null
    this.resume(t, '', false)
  }

  /** A plain timer callback (workload phase changes). */
  at(time: number, cb: () => void): void {
    this.heap.push({ at: time, seq: this.seq++, thread: null, token: 0, cb })
  }

  /** Virtual time of the next pending wake-up or timer, or Infinity. */
  nextEventAt(): number {
    if (this.cont) return this.now
    this.dropStale()
    return this.heap.peek()?.at ?? Number.POSITIVE_INFINITY
  }

  /**
   * Runs everything due up to and including `until`, then sets the clock to `until`.
   * With `maxSteps`, returns false early (clock at the last step) once that many thread
   * resumptions ran; the caller continues later. Work inside a step is bounded by the
   * threads' cond_resched points.
   */
  run(until: number, maxSteps = Number.POSITIVE_INFINITY): boolean {
    let steps = 0
    for (;;) {
      const cont = this.cont
      if (cont) {
        if (steps >= maxSteps) return false
        this.cont = null
        steps++
        this.steps++
        this.resume(cont, '', false)
        continue
      }
      this.dropStale()
      const top = this.heap.peek()
      if (!top || top.at > until) {
        if (until > this.now) this.now = until
        return true
      }
      if (steps >= maxSteps) return false
      this.heap.pop()
      if (top.at > this.now) this.now = top.at
      steps++
      this.steps++
      if (top.cb) top.cb()
      else if (top.thread) this.resume(top.thread, 'timeout', false)
    }
  }

  private dropStale(): void {
    for (;;) {
      const top = this.heap.peek()
      if (!top || top.cb || (top.thread && top.thread.token === top.token)) return
      this.heap.pop()
    }
  }

  private enqueue(t: Kthread, at: number, wakeReason?: string): void {
    t.token++
    this.heap.push({ at, seq: this.seq++, thread: t, token: t.token, cb: null })
    if (wakeReason) this.wakeTrace(t, wakeReason)
  }

  private wakeTrace(t: Kthread, reason: string): void {
    t.waitingOn = null
    t.state = 'running'
    t.last_wake = this.now
    this.trace(t, EV.kthread_wake, [t.comm, t.pid, reason])
  }

  /** Removes a thread from any wait queue and invalidates its pending wake-up. */
  private detach(t: Kthread): void {
    const w = t.waitingOn
    if (w?.kind === 'wait') w.wq.waiters.delete(t)
    t.token++
  }

  /** Runs a thread until it blocks again; `reason` explains the wake-up if it was asleep. */
  private resume(t: Kthread, reason: string, stopping: boolean): void {
    if (t.waitingOn) {
      this.detach(t)
      this.wakeTrace(t, reason)
    }
    const gen = t.gen!
    let w: Wait | null = t.pending
    t.pending = null
    for (;;) {
      if (!w) {
        let r: IteratorResult<Wait, void>
        try {
          r = gen.next()
        } catch (err) {
          t.last_error = err instanceof Error ? err.message : String(err)
          r = { done: true, value: undefined }
        }
        if (r.done) {
          this.exited(t)
          return
        }
        w = r.value
        // The work since the last cond_resched() point goes on counting across a host yield.
        if (w.kind !== 'host') t.work = 0
      }
      if (stopping) {
        // Leaving for kthread_stop(): owed CPU time and sleeps do not delay the exit.
        t.debtNs = 0
        w = null
        continue
      }
      if (w.kind === 'host') {
        this.cont = t
        return
      }
      const owed = Math.floor(t.debtNs / NS_PER_JIFFY)
      if (owed > 0) {
        t.debtNs -= owed * NS_PER_JIFFY
        t.pending = w
        t.state = 'running'
        this.enqueue(t, this.now + owed)
        return
      }
      if (w.kind === 'resched') {
        t.state = 'running'
        this.enqueue(t, this.now)
        return
      }
      if (w.kind === 'sleep') {
        this.sleep(t, w, w.ms)
        return
      }
      if (w.cond()) {
        w = null
        continue
      }
      if (w.timeout <= 0) {
        w = null
        continue
      }
      w.wq.waiters.add(t)
      this.sleep(t, w, w.timeout)
      return
    }
  }

  private sleep(t: Kthread, w: Wait, ms: number): void {
    t.waitingOn = w
    t.state = w.kind === 'wait' && w.paused ? 'paused' : 'sleeping'
    this.trace(t, t.state === 'paused' ? EV.kthread_pause : EV.kthread_sleep, [
      t.comm,
      t.pid,
      ...(t.state === 'paused' ? [] : [Number.isFinite(ms) ? ms : 0]),
    ])
    t.token++
    if (Number.isFinite(ms)) {
      this.heap.push({ at: this.now + ms, seq: this.seq++, thread: t, token: t.token, cb: null })
    }
  }

  private exited(t: Kthread): void {
    this.detach(t)
    t.gen = null
    t.waitingOn = null
    t.pending = null
    t.state = 'stopped'
    t.stopped_at = this.now
    t.shouldStop = false
    this.trace(t, EV.kthread_stop, [t.comm, t.pid])
  }

  private trace(t: Kthread, id: number, args: (number | string)[]): void {
    if (!t.userTask && this.tracer.enabled(id)) this.tracer.emit(t.nowUs(), t.pid, t.comm, id, args)
  }
}
