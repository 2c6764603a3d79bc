/**
 * GET /events: the websocket event stream (protocol in asyncapi.yaml). A plain GET answers
 * 426 Upgrade Required. The handshake is checked before the upgrade: the Host, Origin and
 * read token as for every route (browsers.ts, auth.ts: the token travels as a websocket
 * subprotocol since browsers cannot set headers), the number of streams the client's
 * address has open (429 at the cap), and the URL's subscription (400 when invalid).
 */
import type {} from '@fastify/websocket'
import type { FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { compileFilter, type Filter, GlobError } from '../src/events/filter.ts'
import type { EventHub } from '../src/events/hub.ts'
import { CLOSE, PROTOCOL, Query, Subscribe } from '../src/events/protocol.ts'
import { openSession, type Position, subscriptionOf } from '../src/events/session.ts'
import { TOKEN_PROTOCOL } from '../src/http/auth.ts'
import { HttpError } from '../src/http/errors.ts'
import { errors } from '../src/schemas/common.ts'

/** Streams one client address may have open at once, unless configured. */
export const DEFAULT_STREAMS_PER_ADDRESS = 8

export interface EventsRouteOptions {
  readonly hub: EventHub
  /** Streams one client address may have open at once. */
  readonly maxStreamsPerAddress?: number
}

/** The URL's subscription as a filter and position; throws EINVAL (400) when invalid. */
function fromQuery(q: Query): { filter: Filter; since: Position | null } {
  const parsed = Subscribe.safeParse({
    type: 'subscribe',
    events: q.events?.split(','),
    pids: q.pids?.split(',').map(Number),
    format: q.format,
    batch_ms: q.batch_ms,
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

const closeCodes = Object.values(CLOSE)
  .map((c) => `- ${c.code}: ${c.when}`)
  .join('\n')

export const eventsRoutes: FastifyPluginAsyncZod<EventsRouteOptions> = async (app, opts) => {
  const { hub } = opts
  const cap = opts.maxStreamsPerAddress ?? DEFAULT_STREAMS_PER_ADDRESS
  // The URL's subscription, checked before the upgrade so that a bad one is an HTTP 400.
  const starts = new WeakMap<FastifyRequest, ReturnType<typeof fromQuery>>()
  /** Open streams by client address. */
  const open = new Map<string, number>()
  const full = (ip: string) => (open.get(ip) ?? 0) >= cap

  app.route({
    method: 'GET',
    url: '/events',
    preHandler: async (req, reply) => {
      if (req.ws && full(req.ip)) {
        reply.header('retry-after', 5)
        throw new HttpError('EAGAIN', `${cap} event streams are open from this address`, 429)
      }
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
        // No body: the connection becomes the websocket.
        101: z.null().describe('Switching Protocols: the websocket (messages in asyncapi.yaml)'),
        426: {
          description: 'Upgrade Required: a plain GET; connect with a websocket client',
          content: { 'text/plain': { schema: z.string() } },
        },
        ...errors(400, 401, 403, 429),
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
      // Handshakes that passed the check together can overshoot it: the last ones are closed.
      if (full(req.ip)) {
        socket.close(CLOSE.tryAgain.code, 'too many streams from this address')
        return
      }
      open.set(req.ip, (open.get(req.ip) ?? 0) + 1)
      socket.once('close', () => {
        const n = (open.get(req.ip) ?? 1) - 1
        if (n === 0) open.delete(req.ip)
        else open.set(req.ip, n)
      })
      const { filter, since } = starts.get(req) as ReturnType<typeof fromQuery>
      openSession(hub, socket, filter, since)
    },
  })
}

/** ws's subprotocol selection: ours when offered (the token protocol is never echoed). */
export function handleProtocols(protocols: Set<string>): string | false {
  return protocols.has(PROTOCOL) ? PROTOCOL : false
}
