/**
 * 405 Method Not Allowed with an `Allow` header for every route, generated: an onRoute hook
 * records which methods each URL answers, and once all route plugins are registered a
 * hidden fallback route takes the other methods, GET and HEAD included (GET of an action
 * such as POST /threads/kscand/stop is 405, not 404). OPTIONS answers 204 with the same
 * header. Routes that exist only to refuse (a write to a 0444 file, answered 403) are marked
 * `config: { refuses: true }` and are not advertised in `Allow`. A directory listing is
 * marked `config: { directory: true }`: a write to it is EISDIR, as open(2) for writing of a
 * directory fails, rather than EOPNOTSUPP.
 */
import type { FastifyInstance, HTTPMethods } from 'fastify'
import { HttpError } from './errors.ts'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route only refuses the method (403): leave it out of `Allow`. */
    refuses?: boolean
    /** The route lists a directory: writes to its URL are EISDIR. */
    directory?: boolean
  }
}

const FALLBACK_METHODS: HTTPMethods[] = ['GET', 'HEAD', 'DELETE', 'PATCH', 'POST', 'PUT', 'OPTIONS']

/** The methods that open a file for writing: on a directory, EISDIR. */
const WRITES: ReadonlySet<string> = new Set(['PATCH', 'POST', 'PUT'])

interface UrlMethods {
  taken: Set<string>
  allowed: Set<string>
  directory: boolean
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
    const m = urls.get(route.url) ?? { taken: new Set(), allowed: new Set(), directory: false }
    urls.set(route.url, m)
    if (route.config?.directory) m.directory = true
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
            if (m.directory && WRITES.has(req.method)) {
              throw new HttpError('EISDIR', `${url} is a directory (allowed: ${allow})`)
            }
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
