/** A kernel thread as the API shows it: GET /threads, and the threads of the event stream. */
import type { Kthread } from '../kernel/sched.ts'
import type { Thread } from '../schemas/threads.ts'

export function threadJson(t: Kthread): Thread {
  return {
    name: t.comm,
    pid: t.pid,
    state: t.state,
    startedAt: t.startedAt,
    stoppedAt: t.stoppedAt,
    lastWake: t.lastWake,
    cycles: t.cycles,
    cpuNs: t.cpuNs,
    lastError: t.lastError,
  }
}
