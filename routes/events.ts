/**
 * GET /events: the websocket event stream (protocol in asyncapi.yaml). A plain GET answers
 * 426 Upgrade Required. The handshake is checked before the upgrade: the URL's subscription
 * (400 when invalid), the Origin (403) and, when a read token is configured, the token,
 * which travels as a websocket subprotocol since browsers cannot set headers.
 */
import type {} from '@fastify/websocket'
import type { FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { tokenMatches } from '../src/auth.ts'
import { compileFilter, type Filter, GlobError } from '../src/events/filter.ts'
import type { EventHub } from '../src/events/hub.ts'
import { CLOSE, Format, MAX_BATCH_MS, MIN_BATCH_MS, Subscribe } from '../src/events/protocol.ts'
import { openSession, type Position, subscriptionOf } from '../src/events/session.ts'
import { HttpError } from '../src/http-errors.ts'
import { errors } from '../src/schemas/common.ts'

/** The subprotocol a client offers (and the server selects) for this protocol. */
export const PROTOCOL = 'kscand-sim.v1'
/** Prefix of the subprotocol carrying the read token: `<prefix><base64url(token)>`. */
export const TOKEN_PROTOCOL = 'base64url.bearer.authorization.kscand-sim.'

export interface EventsRouteOptions {
  readonly hub: EventHub
  /** Origins allowed besides the server's own; requests without Origin are not browsers. */
  readonly allowedOrigins?: readonly string[]
  /** When set, subscribers must present it as a subprotocol. */
  readonly readToken?: string
}

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
    batchMs: z.coerce.number().int().min(MIN_BATCH_MS).max(MAX_BATCH_MS).optional(),
  })
  .refine((q) => (q.since === undefined) === (q.epoch === undefined), {
    message: 'since and epoch go together',
  })

type Query = z.infer<typeof Query>

/** The URL's subscription as a filter and position; throws EINVAL (400) when invalid. */
function fromQuery(q: Query): { filter: Filter; since: Position | null } {
  const parsed = Subscribe.safeParse({
    type: 'subscribe',
    events: q.events?.split(','),
    pids: q.pids?.split(',').map(Number),
    format: q.format,
    batchMs: q.batchMs,
  })
  if (!parsed.success) throw new HttpError('EINVAL', z.prettifyError(parsed.error))
  try {
    return {
      filter: compileFilter(subscriptionOf(parsed.data)),
      since: q.since === undefined ? null : { epoch: q.epoch as string, seq: q.since },
    }
  } catch (err) {
    if (err instanceof GlobError) throw new HttpError('EINVAL', err.message)
    throw err
  }
}

function offeredProtocols(req: FastifyRequest): string[] {
  return (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim())
}

function sameOrigin(origin: string, host: string | undefined): boolean {
  try {
    return new URL(origin).host === host
  } catch {
    return false
  }
}

const closeCodes = Object.values(CLOSE)
  .map((c) => `- ${c.code}: ${c.when}`)
  .join('\n')

export const eventsRoutes: FastifyPluginAsyncZod<EventsRouteOptions> = async (app, opts) => {
  const { hub, readToken } = opts
  const allowed = new Set(opts.allowedOrigins ?? [])
  // The URL's subscription, checked before the upgrade so that a bad one is an HTTP 400.
  const starts = new WeakMap<FastifyRequest, ReturnType<typeof fromQuery>>()

  const checkHandshake = async (req: FastifyRequest) => {
    const origin = req.headers.origin
    if (origin !== undefined && !allowed.has(origin) && !sameOrigin(origin, req.headers.host)) {
      throw new HttpError('EACCES', `origin ${origin} is not allowed`)
    }
    if (readToken === undefined) return
    const offered = offeredProtocols(req).find((p) => p.startsWith(TOKEN_PROTOCOL))
    const token = offered && Buffer.from(offered.slice(TOKEN_PROTOCOL.length), 'base64url')
    if (!token || !tokenMatches(token.toString(), readToken)) {
      throw new HttpError(
        'EACCES',
        `the stream needs the read token as subprotocol ${TOKEN_PROTOCOL}<base64url(token)>`,
        401,
      )
    }
  }

  app.route({
    method: 'GET',
    url: '/events',
    onRequest: checkHandshake,
    preHandler: async (req) => {
      starts.set(req, fromQuery(req.query as Query))
    },
    schema: {
      tags: ['events'],
      operationId: 'events',
      summary: 'The event stream (websocket); see asyncapi.yaml',
      description:
        'Upgrade to a websocket to receive a snapshot, then batches of trace events, stats and ' +
        'heartbeats; send `subscribe` messages to change the filter or resume. The query ' +
        'gives the initial subscription (`since` with `epoch` resumes without a snapshot). ' +
        `Offer subprotocol \`${PROTOCOL}\`; when a read token is configured, also offer ` +
        `\`${TOKEN_PROTOCOL}<base64url(token)>\`.\n\nClose codes:\n${closeCodes}`,
      querystring: Query,
      response: {
        426: {
          description: 'Upgrade Required: a plain GET; connect with a websocket client',
          content: { 'text/plain': { schema: z.string() } },
        },
        ...errors(400, 401, 403),
      },
    },
    handler: (_req, reply) => {
      reply
        .code(426)
        .header('upgrade', 'websocket')
        .header('connection', 'Upgrade')
        .type('text/plain; charset=utf-8')
        .send('GET /events is a websocket: connect with a websocket client (see asyncapi.yaml)\n')
    },
    wsHandler: (socket, req) => {
      const { filter, since } = starts.get(req) as ReturnType<typeof fromQuery>
      openSession(hub, socket, filter, since)
    },
  })
}

/** ws's subprotocol selection: ours when offered (the token protocol is never echoed). */
export function handleProtocols(protocols: Set<string>): string | false {
  return protocols.has(PROTOCOL) ? PROTOCOL : false
}
