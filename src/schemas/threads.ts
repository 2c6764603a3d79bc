/** The simulated kernel threads. */
import { z } from 'zod'
import { PromotionStall } from './processes.ts'

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

/** One process whose pages kmigrated does not promote (`kmigrated_daemon.promotion_stalled`). */
export const StalledProcess = PromotionStall.extend({
  pid: z.number().int(),
  comm: z.string(),
}).meta({ id: 'StalledProcess' })

/** kmigrated's side of promotion (struct kmigrated_daemon), shown by GET /threads/kmigrated. */
export const KmigratedDaemon = z
  .object({
    mm_slot: z
      .number()
      .int()
      .nullable()
      .describe(
        'pid of the mm kmigrated drains (kmigrated_daemon.mm_slot); with kmigrated_sticky_slot ' +
          'the only one until it exits; null before any mm got a migration list',
      ),
    mm_slot_comm: z.string().nullable(),
    mm_slots: z.number().int().describe('mms with a migration slot (kmigrated_daemon.mm_head)'),
    kmigrated_sticky_slot: z.boolean().describe('the quirk switch (V3 quirk 4)'),
    queued: z.number().int().describe('kscand_migrate_info entries on all migration lists'),
    max_migrate_info: z.number().int().describe('the most there can be (GFP_NOWAIT fails past it)'),
    promotion_stalled: z
      .array(StalledProcess)
      .describe('every process whose slow-tier pages are not promoted, in pid order'),
  })
  .meta({ id: 'KmigratedDaemon' })

export type KmigratedDaemon = z.infer<typeof KmigratedDaemon>

export const ThreadDetail = Thread.extend({
  kmigrated_daemon: KmigratedDaemon.optional().describe('kmigrated only'),
}).meta({ id: 'ThreadDetail' })
