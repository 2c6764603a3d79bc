/**
 * A first-come first-served lock with a bounded line: for work that must not interleave
 * (a write and the save that makes it durable; clock steps) and must not pile up without
 * end. Past `capacity` holders and waiters, `acquire` refuses at once: the caller answers
 * 503 with Retry-After instead of queueing.
 */
export class QueueFullError extends Error {
  override name = 'QueueFullError'
}

export class BoundedQueue {
  private held = false
  private readonly waiting: (() => void)[] = []

  constructor(
    /** The one holding the lock and those waiting, at most. */
    readonly capacity: number,
  ) {}

  /** Holding or waiting. */
  get length(): number {
    return (this.held ? 1 : 0) + this.waiting.length
  }

  /** Resolves with `release` once it is this caller's turn; throws QueueFullError when full. */
  acquire(): Promise<() => void> {
    if (this.length >= this.capacity) {
      return Promise.reject(new QueueFullError(`${this.length} already running or waiting`))
    }
    let released = false
    const release = () => {
      if (released) return
      released = true
      const next = this.waiting.shift()
      if (next) next()
      else this.held = false
    }
    if (!this.held) {
      this.held = true
      return Promise.resolve(release)
    }
    return new Promise((resolve) => this.waiting.push(() => resolve(release)))
  }
}
