/** The simulated kernel threads. */
import { z } from 'zod'

export const Thread = z
  .object({
    name: z.string().describe('comm: kscand, kmigrated, kswapdN'),
    pid: z.number().int(),
    state: z.enum(['running', 'sleeping', 'paused', 'stopped']),
    started_at: z.number().nullable().describe('virtual ms of the last start'),
    stopped_at: z.number().nullable().describe('virtual ms of the last stop'),
    last_wake: z.number().nullable().describe('virtual ms of the last wake-up'),
    cycles: z.number().int().describe('main-loop cycles completed'),
    cpu_ns: z.number().describe('modelled CPU time charged, ns'),
    last_error: z.string().nullable(),
  })
  .meta({ id: 'Thread' })

export type Thread = z.infer<typeof Thread>

export const ThreadList = z.array(Thread).meta({ id: 'ThreadList' })

export const ThreadParams = z.object({ name: z.string().describe('thread name (comm)') })

export const ThreadTransition = z
  .object({
    thread: Thread,
    changed: z.boolean().describe('false when the thread was already in that state'),
    message: z.string().describe('`started`, `already running`, `stopped` or `already stopped`'),
  })
  .meta({ id: 'ThreadTransition' })
