/**
 * GET /metrics: the Prometheus text exposition of src/metrics/metrics.ts. Shed under overload like
 * every route but /healthz: a scrape costs real work, and scrapers retry.
 */
import type { FastifyInstance } from 'fastify'
import type { Metrics } from '../src/metrics/metrics.ts'

export async function metricsRoutes(
  fastify: FastifyInstance,
  opts: { readonly metrics: Metrics },
): Promise<void> {
  const { registry } = opts.metrics
  fastify.get('/metrics', async (_req, reply) =>
    reply.type(registry.contentType).send(await registry.metrics()),
  )
}
