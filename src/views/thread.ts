/** A kernel thread as the API shows it: GET /threads, and the threads of the event stream. */
import type { Kthread } from '../kernel/sched.ts'
import type { Thread } from '../schemas/threads.ts'

export function threadJson(t: Kthread): Thread {
  return {
    name: t.comm,
    pid: t.pid,
    state: t.state,
    started_at: t.started_at,
    stopped_at: t.stopped_at,
    last_wake: t.last_wake,
    cycles: t.cycles,
    cpu_ns: t.cpu_ns,
    last_error: t.last_error,
  }
}
