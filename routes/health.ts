/**
 * Probes. GET /healthz: the process and its event loop answer (liveness; Docker's
 * HEALTHCHECK), even under overload. GET /readyz: the simulation is initialised and the
 * process is not shutting down (readiness); 503 otherwise, and 503 under overload like
 * every other route. Text by default, JSON when asked for.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Lifecycle } from '../src/daemon/lifecycle.ts'
import { prefersJson } from '../src/http/negotiate.ts'
import type { Kernel } from '../src/kernel/kernel.ts'

export interface HealthOptions {
  readonly kernel: Kernel
  readonly lifecycle: Lifecycle
}

/** Route config that lets a route through @fastify/under-pressure's overload check. */
const EXEMPT_FROM_PRESSURE = { pressureHandler: () => undefined }

function answer(req: FastifyRequest, reply: FastifyReply, status: string, body: object) {
  reply.header('cache-control', 'no-store')
  if (prefersJson(req)) return reply.send({ status, ...body })
  return reply.type('text/plain; charset=utf-8').send(`${status}\n`)
}

export async function healthRoutes(fastify: FastifyInstance, opts: HealthOptions): Promise<void> {
  const { kernel, lifecycle } = opts
  fastify.get('/healthz', { config: EXEMPT_FROM_PRESSURE }, (req, reply) =>
    answer(req, reply, 'ok', {}),
  )
  fastify.get('/readyz', (req, reply) => {
    const ready = lifecycle.phase === 'ready'
    reply.code(ready ? 200 : 503)
    return answer(req, reply, ready ? 'ready' : lifecycle.phase, { now: kernel.now })
  })
}
