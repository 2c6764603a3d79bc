/** GET /metrics: the Prometheus text exposition of src/metrics.ts, served even under overload. */
import type { FastifyInstance } from 'fastify'
import type { Metrics } from '../src/metrics.ts'
import { EXEMPT_FROM_PRESSURE } from './health.ts'

export async function metricsRoutes(
  fastify: FastifyInstance,
  opts: { readonly metrics: Metrics },
): Promise<void> {
  const { registry } = opts.metrics
  fastify.get('/metrics', { config: EXEMPT_FROM_PRESSURE }, async (_req, reply) =>
    reply.type(registry.contentType).send(await registry.metrics()),
  )
}
