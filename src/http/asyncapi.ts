/**
 * The AsyncAPI 3.0 description of GET /events, built from the zod schemas the server uses
 * (src/events/protocol.ts) and the tracepoint declarations they derive from. The app serves
 * it at /asyncapi.yaml, as it serves /openapi.yaml; `npm run asyncapi` writes the demo
 * machine's to asyncapi.yaml, and test/events/asyncapi.test.ts fails when the committed file
 * differs from it, validates it, and checks real frames against it.
 */
import { stringify } from 'yaml'
import { type ZodType, z } from 'zod'
import { MAX_BATCH_BYTES, MAX_BATCH_EVENTS } from '../events/fanout.ts'
import { DEFAULTS } from '../events/hub.ts'
import {
  CLOSE,
  DEFAULT_BATCH_MS,
  EVENT_SCHEMAS,
  HEARTBEAT_MS,
  MAX_BATCH_MS,
  MAX_CLIENT_FRAME,
  MIN_BATCH_MS,
  PROTOCOL,
  Query,
  Subscribe,
  serverMessages,
} from '../events/protocol.ts'
import { EVENTS } from '../kernel/trace.ts'
import { History, ProcessHistory } from '../schemas/history.ts'
import { ProcessDetail, PromotionStall, WorkloadSpecSchema } from '../schemas/processes.ts'
import { Thread } from '../schemas/threads.ts'
import type { SysfsFile } from '../sysfs/file.ts'
import { TOKEN_PROTOCOL } from './auth.ts'

const SUMMARIES: Record<string, string> = {
  subscribe: 'Set the filter, format and batch interval, or resume after a position',
  snapshot: 'The state the stream starts from',
  subscribed: 'A subscription took effect',
  batch: 'Events, in order',
  lost: 'Events not sent to a client that fell behind',
  heartbeat: 'The current position, periodically (a bookmark for filtered streams)',
  stats: 'Counters, rates, threads and per-process state, periodically',
  reset: 'The requested position is gone; 4410 follows',
  error: 'A client message was rejected',
}

/** JSON Schemas (draft-07, as AsyncAPI schemas are) with references between components. */
function componentSchemas(named: Record<string, ZodType>): Record<string, unknown> {
  const registry = z.registry<{ id: string }>()
  for (const [id, schema] of Object.entries(named)) registry.add(schema, { id })
  const { schemas } = z.toJSONSchema(registry, {
    target: 'draft-7',
    uri: (id) => `#/components/schemas/${id}`,
  })
  return Object.fromEntries(
    Object.entries(schemas).map(([id, { $schema: _s, $id: _i, ...schema }]) => [id, schema]),
  )
}

/** The document of the event stream of an app with this sysfs table (the snapshot's tunables). */
export function asyncapiDocument(files: readonly SysfsFile[]): string {
  const server = serverMessages(files)
  const messages = { subscribe: Subscribe, ...server }
  const schemaName = (m: string) => m[0].toUpperCase() + m.slice(1)
  const schemas = componentSchemas({
    // Schemas of the HTTP API the snapshot reuses (they carry ids of their own).
    Thread,
    ProcessDetail,
    WorkloadSpec: WorkloadSpecSchema,
    PromotionStall,
    History,
    ProcessHistory,
    ...Object.fromEntries(Object.entries(messages).map(([m, s]) => [schemaName(m), s])),
    ...Object.fromEntries(
      EVENT_SCHEMAS.map((s, i) => [`${EVENTS[i].system}.${EVENTS[i].name}`, s]),
    ),
  })
  const ref = (m: string) => ({ $ref: `#/channels/events/messages/${m}` })
  const closeCodes = Object.values(CLOSE).map((c) => `- **${c.code}**: ${c.when}`)
  const doc = {
    asyncapi: '3.0.0',
    info: {
      title: 'kscand-sim event stream',
      version: '0.1.0',
      description:
        'The trace events of the simulated kernel (every kmem_* tracepoint of the V3 series, ' +
        'kthread lifecycle, sysfs writes), with a snapshot to start from, periodic stats, ' +
        'resume by position and explicit loss reports. Positions are `{epoch, seq}`: seq ' +
        'numbers every recorded event, epoch is new at every start of the server.',
      license: { name: 'MIT' },
    },
    defaultContentType: 'application/json',
    servers: {
      local: {
        host: '127.0.0.1:8080',
        protocol: 'ws',
        description: `npm start. Offer subprotocol \`${PROTOCOL}\`.`,
        security: [{ $ref: '#/components/securitySchemes/readToken' }],
      },
    },
    channels: {
      events: {
        address: '/events',
        title: 'GET /events',
        description:
          'On connect the server sends `snapshot` (or, when the URL has `since`, ' +
          `\`subscribed\`), then \`batch\` messages flushed every \`batch_ms\` ` +
          `(${MIN_BATCH_MS}–${MAX_BATCH_MS} ms, default ${DEFAULT_BATCH_MS}) or sooner at a ` +
          `size cap (${MAX_BATCH_EVENTS} events or ${MAX_BATCH_BYTES / 1024} KiB), \`stats\` ` +
          `every ${DEFAULTS.statsMs / 1000} s and \`heartbeat\` every ` +
          `${HEARTBEAT_MS / 1000} s to a client that is not behind. A client that falls ` +
          'behind by more than the ' +
          `high-water mark (${DEFAULTS.highWaterBytes / 2 ** 20} MiB by default) is not queued ` +
          'for: it gets `lost` once it drains, so that delivered plus lost equals what its ' +
          `filter selected; stuck for ${DEFAULTS.stuckMs / 1000} s, it is closed with 1013. ` +
          `Client messages are text frames of at most ${MAX_CLIENT_FRAME / 1024} KiB.\n\n` +
          `Close codes:\n${closeCodes.join('\n')}`,
        messages: Object.fromEntries(
          Object.keys(messages).map((m) => [m, { $ref: `#/components/messages/${m}` }]),
        ),
        bindings: {
          ws: {
            method: 'GET',
            query: z.toJSONSchema(Query, { target: 'draft-7', io: 'input' }),
            bindingVersion: '0.1.0',
          },
        },
        'x-close-codes': Object.fromEntries(Object.values(CLOSE).map((c) => [c.code, c.when])),
      },
    },
    operations: {
      receiveSubscribe: {
        action: 'receive',
        channel: { $ref: '#/channels/events' },
        summary: SUMMARIES.subscribe,
        messages: [ref('subscribe')],
      },
      sendStream: {
        action: 'send',
        channel: { $ref: '#/channels/events' },
        summary: 'Everything the server sends',
        messages: Object.keys(server).map(ref),
      },
    },
    components: {
      securitySchemes: {
        readToken: {
          type: 'httpApiKey',
          name: 'Sec-WebSocket-Protocol',
          in: 'header',
          description:
            `Only when the server has a read token: offer \`${TOKEN_PROTOCOL}<base64url(token)>\` ` +
            `as a subprotocol next to \`${PROTOCOL}\` (browsers cannot set Authorization), ` +
            'or send `Authorization: Bearer <token>`; the read or the write token.',
        },
      },
      messages: Object.fromEntries(
        Object.keys(messages).map((m) => [
          m,
          {
            name: m,
            title: m,
            summary: SUMMARIES[m],
            payload: { $ref: `#/components/schemas/${schemaName(m)}` },
          },
        ]),
      ),
      schemas,
    },
  }
  // JSON Schema draft-07 has no `$schema` inside a nested schema; the query's is dropped.
  const { $schema: _s, ...query } = doc.channels.events.bindings.ws.query
  doc.channels.events.bindings.ws.query = query
  // Written as YAML 1.1 sees it: `on`, `no`, `y`… are quoted, so PyYAML and Go's yaml.v2 read
  // the same document as YAML 1.2 readers do.
  return stringify(doc, { lineWidth: 100, version: '1.1' })
}
