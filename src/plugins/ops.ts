/**
 * What running in production adds around the control plane, as one plugin that app.ts
 * registers before any route (its hooks then apply to every route): security headers, a
 * rate limit on writes and event-stream requests, overload shedding (of every route but
 * /healthz), request metrics and the state-file hooks. The routes it comes with (/healthz,
 * /readyz, /metrics) app.ts registers.
 */
import helmet from '@fastify/helmet'
import rateLimit from '@fastify/rate-limit'
import underPressure from '@fastify/under-pressure'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { Lifecycle } from '../daemon/lifecycle.ts'
import { type Persistence, persistWrites } from '../host/persist.ts'
import { HttpError } from '../http/errors.ts'
import { isWrite } from '../http/is-write.ts'
import type { Metrics } from '../metrics/metrics.ts'

export interface OpsOptions {
  readonly lifecycle: Lifecycle
  readonly metrics: Metrics
  readonly persistence?: Persistence | null
  /** Event-loop delay (ms) above which requests get 503; 0 turns the check off. */
  readonly maxEventLoopDelayMs: number
  /** Writes and websocket upgrades per minute per client address; 0 turns the limit off. */
  readonly writeRateLimit: number
  /** Writes being saved or waiting their turn, at most (503 beyond). */
  readonly writeQueue?: number
}

/** Seconds a client is told to wait when the process is overloaded. */
const OVERLOAD_RETRY_AFTER_S = 5
/** How often the event-loop delay is sampled. */
const SAMPLE_INTERVAL_MS = 500

const isUpgrade = (req: FastifyRequest) => (req.headers.upgrade ?? '').toLowerCase() === 'websocket'
/** Counted like writes: a plain GET of the stream costs its handshake checks (globs) too. */
const isLimited = (req: FastifyRequest) =>
  isWrite(req.method) || isUpgrade(req) || req.routeOptions.url === '/events'

async function opsPlugin(fastify: FastifyInstance, opts: OpsOptions): Promise<void> {
  await fastify.register(helmet, {
    // The dashboard is served over plain HTTP on any hostname: no upgrade of its requests to
    // https, no HSTS, and no COOP (which browsers ignore, with an error, on plain HTTP).
    contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } },
    strictTransportSecurity: false,
    crossOriginOpenerPolicy: false,
  })
  if (opts.writeRateLimit > 0) {
    await fastify.register(rateLimit, {
      max: opts.writeRateLimit,
      timeWindow: 60_000,
      allowList: (req) => !isLimited(req),
      errorResponseBuilder: (_req, ctx) =>
        new HttpError(
          'EAGAIN',
          `more than ${ctx.max} writes or stream connections a minute from this address; ` +
            `retry in ${ctx.after}`,
          429,
        ),
    })
  }
  await fastify.register(underPressure, {
    maxEventLoopDelay: opts.maxEventLoopDelayMs,
    sampleInterval: SAMPLE_INTERVAL_MS,
    // Rejecting hands the error to the route's error handler, which answers 503. Samples
    // taken until shortly after the process became ready measure the boot itself (module
    // loading, building the routes), not load; an empty sample (reported as Infinity) only
    // says the loop was blocked once. Neither is held against requests.
    pressureHandler: async (_req, reply, type, value) => {
      if (opts.lifecycle.readyFor() < 2 * SAMPLE_INTERVAL_MS) return
      if (type === 'eventLoopDelay' && !Number.isFinite(value)) return
      reply.header('retry-after', OVERLOAD_RETRY_AFTER_S)
      const what =
        type === 'eventLoopDelay' ? `event-loop delay ${Math.round(value ?? 0)} ms` : type
      throw new HttpError('EAGAIN', `overloaded (${what}); retry later`, 503)
    },
  })

  // While stopping, every answer closes its connection: keep-alive clients reconnect (to
  // another instance), and the server's close does not wait on their idle sockets.
  fastify.addHook('onSend', async (_req, reply, payload) => {
    if (opts.lifecycle.phase === 'stopping') reply.header('connection', 'close')
    return payload
  })
  opts.metrics.countRequests(fastify)
  fastify.decorate('persistence', opts.persistence ?? null)
  if (opts.persistence) persistWrites(fastify, opts.persistence, opts.writeQueue)
}

/** Not encapsulated: its hooks apply to the routes registered after it. */
export const ops = fp(opsPlugin, { name: 'kscand-sim-ops' })
