/**
 * Content negotiation between the two representations every resource has: the text `cat`
 * would print (the default, and what curl's `Accept: *\/*` gets) and JSON for programs.
 */
import type { FastifyRequest } from 'fastify'

/** q-value the Accept header gives `type` (RFC 9110, section 12.5.1: the most specific range wins). */
export function acceptQuality(accept: string, type: string): number {
  const [major] = type.split('/')
  let best = -1
  let q = 0
  for (const part of accept.split(',')) {
    const [range, ...params] = part.trim().toLowerCase().split(';')
    const specificity = range === type ? 3 : range === `${major}/*` ? 2 : range === '*/*' ? 1 : 0
    if (specificity <= best) continue
    best = specificity
    const qp = params.map((p) => p.trim()).find((p) => p.startsWith('q='))
    const v = qp ? Number(qp.slice(2)) : 1
    q = Number.isFinite(v) ? Math.min(Math.max(v, 0), 1) : 0
  }
  return best > 0 ? q : 0
}

/** True when the client prefers application/json over text/plain; ties go to text. */
export function prefersJson(req: FastifyRequest): boolean {
  const accept = req.headers.accept
  if (!accept || accept === '*/*') return false
  return acceptQuality(accept, 'application/json') > acceptQuality(accept, 'text/plain')
}
