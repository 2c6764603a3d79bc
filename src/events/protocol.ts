/**
 * The websocket protocol of GET /events, declared once as zod schemas: the server validates
 * what clients send with them, the tests validate what the server sends with them, and
 * asyncapi.yaml is generated from them (scripts/asyncapi.ts). The event payloads come from
 * the tracepoint declarations in kernel/trace.ts.
 */
import { type ZodType, z } from 'zod'
import { EVENTS, type FieldType } from '../kernel/trace.ts'
import { History } from '../schemas/history.ts'
import { ProcessDetail } from '../schemas/processes.ts'
import { Thread } from '../schemas/threads.ts'
import type { SysfsFile } from '../sysfs/file.ts'
import { GLOB_RE } from './filter.ts'
import { FULL_NAMES } from './format.ts'
import { Counters, Node, Occupancy, Rates, StatsNode, Tracing, tunablesSchema } from './state.ts'

/** The subprotocol a client offers (and the server selects) for this protocol. */
export const PROTOCOL = 'kscand-sim.v1'

export const MIN_BATCH_MS = 50
export const MAX_BATCH_MS = 1000
export const DEFAULT_BATCH_MS = 50
export const MAX_GLOBS = 32
export const MAX_PIDS = 64
/** Client frames are small subscribe messages; larger ones are closed with 1009. */
export const MAX_CLIENT_FRAME = 16 * 1024
/** Client messages: a burst of this many, then this many per second; beyond, 1008. */
export const MESSAGE_BURST = 20
export const MESSAGES_PER_SECOND = 10
/**
 * A subscriber that has been sent every event its filter selected (and is not congested) is
 * sent a heartbeat this often (hub.ts); the documents quote it from here.
 */
export const HEARTBEAT_MS = 15_000

/**
 * The close codes the server uses, for clients and for asyncapi.yaml. Where the hub chooses
 * to close, `reason` labels the disconnect in `kscand_sim_events_disconnects_total`.
 */
export const CLOSE = {
  goingAway: {
    code: 1001,
    reason: 'shutdown',
    when: 'the server is shutting down; reconnect with `since`',
  },
  policy: {
    code: 1008,
    reason: 'flood',
    when:
      `policy violation: a flood (more than ${MESSAGE_BURST} client messages in a burst, ` +
      `then ${MESSAGES_PER_SECOND} per second)`,
  },
  tooBig: { code: 1009, when: `a client frame exceeded ${MAX_CLIENT_FRAME / 1024} KiB` },
  internal: { code: 1011, when: 'an unexpected server error' },
  tryAgain: {
    code: 1013,
    reason: 'slow',
    when:
      'try again later: the client stopped reading and stayed above the high-water mark for ' +
      'the stuck timeout, or the server has its maximum number of subscribers (or the ' +
      "client's address its maximum of streams)",
  },
  badRequest: {
    code: 4400,
    reason: 'bad_request',
    when: 'bad request: too many invalid messages, or an invalid subscription in the URL',
  },
  gone: {
    code: 4410,
    reason: 'reset',
    when:
      'the `since` position is gone (older than the ring, not recorded for the subscription, ' +
      'or from another epoch); sent after a `reset` message: fetch a fresh snapshot by ' +
      'reconnecting without `since`',
  },
} as const

type CloseReason = {
  [K in keyof typeof CLOSE]: (typeof CLOSE)[K] extends { reason: infer R } ? R : never
}[keyof typeof CLOSE]

/**
 * Why a subscriber left: it closed or the connection dropped (`client`), it stopped answering
 * pings (`unresponsive`), it broke the websocket protocol (`protocol_error`, an oversized frame
 * among them), or the server closed it for one of CLOSE's reasons.
 */
export const DISCONNECTS = [
  'client',
  'unresponsive',
  'protocol_error',
  ...Object.values(CLOSE).flatMap((c): CloseReason[] => ('reason' in c ? [c.reason] : [])),
] as const
export type Disconnect = (typeof DISCONNECTS)[number]

/** What the event stream reports over its life (EventHub.stats(); /metrics pulls it). */
export interface EventStreamStats {
  readonly subscribers: number
  /** Batch frames sent, over all subscribers. */
  readonly batches: number
  /** Events delivered, over all subscribers. */
  readonly events: number
  /** Events reported to slow subscribers as lost. */
  readonly lost: number
  /** Subscribers disconnected, by reason (one of DISCONNECTS). */
  readonly disconnects: Readonly<Record<string, number>>
}

const Seq = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)
const Epoch = z.string().min(1).max(64).describe('random id of the ring, new at every start')

export const Glob = z
  .string()
  .min(1)
  .max(64)
  .regex(GLOB_RE)
  .describe('event name glob `[system:]name` with `*` and `?`: `kmem:*`, `kthread_s*`, `*`')

export const Format = z
  .enum(['json', 'text'])
  .describe('json: typed event objects; text: trace_pipe lines')

export const Subscribe = z
  .strictObject({
    type: z.literal('subscribe'),
    events: z.array(Glob).min(1).max(MAX_GLOBS).optional().describe('default: every event'),
    pids: z
      .array(
        z
          .number()
          .int()
          .min(0)
          .max(2 ** 31 - 1),
      )
      .min(1)
      .max(MAX_PIDS)
      .optional()
      .describe('events of these pids, or about an mm these pids own; default: all'),
    since: z
      .strictObject({ epoch: Epoch, seq: Seq })
      .optional()
      .describe('resume after this position (the last seq the client has accounted for)'),
    format: Format.optional().describe('default json'),
    batch_ms: z
      .number()
      .int()
      .min(MIN_BATCH_MS)
      .max(MAX_BATCH_MS)
      .optional()
      .describe(`batch flush interval, default ${DEFAULT_BATCH_MS}`),
  })
  .describe(
    'Replaces the whole subscription (omitted fields take their defaults). Without `since` ' +
      'the stream continues from where it is, under the new filter; with `since` it restarts ' +
      'after that position. Answered with `subscribed`, or `error`, or `reset`.',
  )

export type SubscribeMessage = z.infer<typeof Subscribe>

/** The subscription a connection URL may carry (`/events?events=kmem:*&batch_ms=100`). */
export const Query = z
  .strictObject({
    events: z.string().max(2048).optional().describe('comma-separated event globs'),
    pids: z
      .string()
      .regex(/^\d+(,\d+)*$/)
      .optional()
      .describe('comma-separated pids'),
    since: z.coerce.number().int().min(0).optional().describe('resume after this seq'),
    epoch: z.string().min(1).max(64).optional().describe('the epoch `since` belongs to'),
    format: Format.optional(),
    batch_ms: z.coerce.number().int().min(MIN_BATCH_MS).max(MAX_BATCH_MS).optional(),
  })
  .refine((q) => (q.since === undefined) === (q.epoch === undefined), {
    message: 'since and epoch go together',
  })

export type Query = z.infer<typeof Query>

const fieldSchema: Record<FieldType, () => ZodType> = {
  ptr: () => z.string().regex(/^[0-9a-f]{16}$/),
  long: () => z.number().int(),
  ulong: () => z.number().int().min(0),
  int: () => z.number().int(),
  uint: () => z.number().int().min(0),
  str: () => z.string(),
}

/** One JSON event schema per declared tracepoint. */
export const EVENT_SCHEMAS = EVENTS.map((e, i) =>
  z
    .strictObject({
      seq: Seq,
      ts: z.number().int().min(0).describe('virtual time, µs'),
      event: z.literal(FULL_NAMES[i]),
      comm: z.string(),
      pid: z.number().int(),
      fields: z.strictObject(
        Object.fromEntries(e.fields.map((f) => [f.name, fieldSchema[f.type]().describe(f.doc)])),
      ),
    })
    .describe(e.doc),
)

export const JsonEvent = z.discriminatedUnion('event', EVENT_SCHEMAS as never)

export const TraceLine = z
  .string()
  .describe('a trace_pipe line: `<comm>-<pid> [000] ..... <secs>.<usecs>: <event>: <fields>`')

const Subscription = z.object({
  events: z.array(z.string()).describe('the events selected, by full name'),
  pids: z.array(z.number().int()).nullable(),
  format: Format,
  batch_ms: z.number().int(),
})

export const Subscribed = z.strictObject({
  type: z.literal('subscribed'),
  epoch: Epoch,
  seq: Seq.describe('the stream continues after this position'),
  subscription: Subscription,
})

export function snapshotSchema(files: readonly SysfsFile[]) {
  return z
    .strictObject({
      type: z.literal('snapshot'),
      epoch: Epoch,
      seq: Seq.describe('the position of the snapshot: batches continue after it'),
      now: z.number().describe('virtual ms'),
      subscription: Subscription,
      threads: z.array(Thread),
      tunables: tunablesSchema(files),
      counters: Counters,
      processes: z.array(ProcessDetail),
      nodes: z.array(Node),
      tracing: Tracing,
      history: History.describe(
        'what GET /sim/history answers: the charts from the oldest sample kept, so a page ' +
          'opened late draws the past at once; each `stats` brings the samples taken since',
      ),
    })
    .describe('The state the stream starts from; sent first unless the connection resumes.')
}

export const Batch = z
  .strictObject({
    type: z.literal('batch'),
    epoch: Epoch.describe('the epoch of every seq in the batch'),
    from_seq: Seq,
    to_seq: Seq,
    events: z.union([z.array(JsonEvent), z.array(TraceLine)]),
  })
  .describe(
    'Events with from_seq <= seq <= to_seq that pass the filter; {epoch, seq} is the position ' +
      'of each. Batches cover consecutive ' +
      'ranges: the next batch, lost or heartbeat starts after to_seq (a filtered stream skips ' +
      'ranges where nothing matched).',
  )

export const Lost = z
  .strictObject({
    type: z.literal('lost'),
    from_seq: Seq,
    to_seq: Seq,
    count: z.number().int().min(1).describe('events that passed the filter and were not sent'),
  })
  .describe(
    'The client fell behind (above the high-water mark) and these events were not queued; ' +
      'delivered + lost counts equal what the filter selected.',
  )

export const Heartbeat = z
  .strictObject({
    type: z.literal('heartbeat'),
    epoch: Epoch,
    seq: Seq.describe('every event up to here has been sent or reported lost'),
    now: z.number().describe('virtual ms'),
  })
  .describe(
    `Sent every ${HEARTBEAT_MS / 1000} s to a client that is not behind; a bookmark for ` +
      'filtered streams.',
  )

export const Stats = z
  .strictObject({
    type: z.literal('stats'),
    now: z.number().describe('virtual ms'),
    seq: Seq.describe('newest event in the ring'),
    counters: Counters,
    rates: Rates,
    numa_balancing: z
      .number()
      .int()
      .describe('the NUMA balancing mode (/proc/sys/kernel/numa_balancing)'),
    threads: z.array(Thread).describe('as GET /threads shows them'),
    processes: z.array(Occupancy),
    nodes: z.array(StatsNode),
    subscribers: z.number().int(),
    history: History.describe(
      'the history samples this subscriber has not had: those after its snapshot or the ' +
        'last stats it got (none while time stands still), appended they continue the ' +
        'history second by second; the first stats of a resumed stream carries all of it',
    ),
  })
  .describe(
    'Periodic figures for charts and cards: counters, rates, threads, the NUMA balancing ' +
      'mode and hot thresholds, and per process its tier occupancy, quality, scan, migration ' +
      'and NUMA balancing state.',
  )

export const Reset = z
  .strictObject({
    type: z.literal('reset'),
    reason: z.enum(['expired', 'epoch-changed']),
    epoch: Epoch.describe('the current epoch'),
    seq: Seq.describe('the newest position'),
    message: z.string(),
  })
  .describe(
    'The requested position is gone (`expired`: the ring overwrote what follows it, or did ' +
      'not record every event the subscription selects since, because no subscriber selected ' +
      'them meanwhile); the server closes with 4410 next.',
  )

export const ERROR_CODES = [
  'bad_json',
  'binary_frame',
  'unknown_type',
  'bad_message',
  'bad_glob',
  'bad_since',
] as const

export const ErrorMessage = z
  .strictObject({
    type: z.literal('error'),
    code: z.enum(ERROR_CODES),
    message: z.string(),
  })
  .describe('A client message was rejected; the subscription is unchanged.')

/** Every message the server sends, by type. */
export function serverMessages(files: readonly SysfsFile[]) {
  return {
    snapshot: snapshotSchema(files),
    subscribed: Subscribed,
    batch: Batch,
    lost: Lost,
    heartbeat: Heartbeat,
    stats: Stats,
    reset: Reset,
    error: ErrorMessage,
  }
}
