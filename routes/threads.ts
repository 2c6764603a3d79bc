/**
 * The simulated kernel threads: their state, and start/stop. Both transitions are
 * idempotent: starting a running thread answers 200 and says so. A stop lands at the
 * thread's next should_stop point (the kernel runs it there before answering), so it never
 * leaves half-done work; the scheduler emits kthread_start/kthread_stop trace events.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { auditWrite } from '../src/http/audit.ts'
import { BODY_LIMIT } from '../src/http/limits.ts'
import { columns, keyValueText, sendRepresentation } from '../src/http/representation.ts'
import type { Kthread } from '../src/kernel/sched.ts'
import { errors, textOrJson } from '../src/schemas/common.ts'
import { ThreadDetail, ThreadList, ThreadParams, ThreadTransition } from '../src/schemas/threads.ts'
import { kmigratedDaemon, kmigratedDaemonText } from '../src/views/kmigrated.ts'
import { threadJson } from '../src/views/thread.ts'

const dash = (v: number | string | null) => (v === null ? '-' : String(v))

/** ps-like table: one line per thread. */
function threadTable(threads: readonly Kthread[]): string {
  return columns([
    ['PID', 'COMM', 'STATE', 'STARTED_MS', 'CYCLES', 'CPU_MS', 'LAST_ERROR'],
    ...threads.map((t) => [
      String(t.pid),
      t.comm,
      t.state,
      dash(t.started_at),
      String(t.cycles),
      (t.cpu_ns / 1e6).toFixed(3),
      dash(t.last_error),
    ]),
  ])
}

export const threadRoutes: FastifyPluginAsyncZod = async (app) => {
  const { kernel } = app

  app.get(
    '/threads',
    {
      schema: {
        tags: ['threads'],
        operationId: 'listThreads',
        summary: 'Every simulated kernel thread (kscand, kmigrated, kswapdN)',
        response: { 200: textOrJson(ThreadList, 'one line (or object) per thread') },
      },
    },
    (req, reply) => {
      const threads = kernel.threads()
      sendRepresentation(req, reply, threadTable(threads), () => threads.map(threadJson))
    },
  )

  app.get(
    '/threads/:name',
    {
      schema: {
        tags: ['threads'],
        operationId: 'getThread',
        summary:
          'One thread: state, pid, started at, cycles, last error; kmigrated also the mm it drains and the processes whose promotions stall',
        params: ThreadParams,
        response: { 200: textOrJson(ThreadDetail, 'the thread'), ...errors(404) },
      },
    },
    (req, reply) => {
      const t = threadJson(kernel.thread(req.params.name))
      if (t.name !== 'kmigrated') return sendRepresentation(req, reply, keyValueText(t), () => t)
      const d = kmigratedDaemon(kernel)
      sendRepresentation(req, reply, keyValueText(t) + kmigratedDaemonText(d), () => ({
        ...t,
        kmigrated_daemon: d,
      }))
    },
  )

  for (const action of ['start', 'stop'] as const) {
    app.post(
      `/threads/:name/${action}`,
      {
        onRequest: app.writeGuard,
        bodyLimit: BODY_LIMIT,
        schema: {
          tags: ['threads'],
          operationId: `${action}Thread`,
          summary:
            action === 'start'
              ? 'Start a thread (kthread_run); 200 "already running" if it runs'
              : 'Stop kscand or kmigrated (kthread_stop) at its next should_stop point; 200 "already stopped" if stopped; kswapd: 403 EPERM',
          security: [{ bearer: [] }],
          params: ThreadParams,
          response: {
            200: textOrJson(ThreadTransition, 'the thread after the request'),
            ...(action === 'stop' ? errors(401, 403, 404) : errors(401, 404)),
          },
        },
      },
      (req, reply) => {
        const { name } = req.params
        const before = kernel.thread(name).state
        const changed =
          action === 'start' ? kernel.startThread(name) : kernel.stopThreadFromUser(name)
        const thread = threadJson(kernel.thread(name))
        const done = action === 'start' ? 'started' : 'stopped'
        const message = changed ? done : `already ${action === 'start' ? 'running' : 'stopped'}`
        if (changed) {
          auditWrite(kernel, req, `/threads/${name}`, before, thread.state, {
            do: action,
            thread: name,
          })
        }
        sendRepresentation(req, reply, `${name}: ${message}\n`, () => ({
          thread,
          changed,
          message,
        }))
      },
    )
  }
}
