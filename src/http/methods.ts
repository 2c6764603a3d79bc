/**
 * 405 Method Not Allowed with an `Allow` header for every route, generated: an onRoute hook
 * records which methods each URL answers, and once all route plugins are registered a
 * hidden fallback route takes the other methods. OPTIONS answers 204 with the same header.
 * Routes that exist only to refuse (a write to a 0444 file, answered 403) are marked
 * `config: { refuses: true }` and are not advertised in `Allow`.
 */
import type { FastifyInstance, HTTPMethods } from 'fastify'
import { HttpError } from './errors.ts'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route only refuses the method (403): leave it out of `Allow`. */
    refuses?: boolean
  }
}

const FALLBACK_METHODS: HTTPMethods[] = ['DELETE', 'PATCH', 'POST', 'PUT', 'OPTIONS']

interface UrlMethods {
  taken: Set<string>
  allowed: Set<string>
}

/**
 * Starts recording routes on `fastify`; call the returned function after the route plugins
 * are registered to add the fallbacks.
 */
export function trackMethods(fastify: FastifyInstance): () => Promise<void> {
  const urls = new Map<string, UrlMethods>()
  let sealed = false
  fastify.addHook('onRoute', (route) => {
    if (sealed) return
    const m = urls.get(route.url) ?? { taken: new Set(), allowed: new Set() }
    urls.set(route.url, m)
    for (const method of [route.method].flat()) {
      m.taken.add(method)
      if (!route.config?.refuses) m.allowed.add(method)
    }
  })
  return async () => {
    sealed = true
    await fastify.register(async (fallbacks) => {
      for (const [url, m] of urls) {
        const missing = FALLBACK_METHODS.filter((x) => !m.taken.has(x))
        if (missing.length === 0) continue
        const allow = [...m.allowed].sort().join(', ')
        fallbacks.route({
          method: missing,
          url,
          schema: { hide: true },
          config: { refuses: true },
          handler: async (req, reply) => {
            reply.header('allow', allow)
            if (req.method === 'OPTIONS') return reply.code(204).send()
            throw new HttpError(
              'EOPNOTSUPP',
              `${req.method} does not apply to ${url} (allowed: ${allow})`,
            )
          },
        })
      }
    })
  }
}
