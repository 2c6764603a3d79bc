/** Where the process is in its life: what /readyz reports and what shutdown changes. */
export type Phase = 'starting' | 'ready' | 'stopping'

export class Lifecycle {
  phase: Phase = 'starting'
  /** performance.now() when the process became ready. */
  readyAt: number | null = null

  ready(): void {
    this.phase = 'ready'
    this.readyAt = performance.now()
  }

  /** Milliseconds since the process became ready (0 before). */
  readyFor(): number {
    return this.readyAt === null ? 0 : performance.now() - this.readyAt
  }
}
