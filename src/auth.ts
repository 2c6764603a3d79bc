/**
 * Who may write. Reads are open, as sysfs 0644 files are world-readable; every write (sysfs
 * stores, thread start/stop, processes, time, tracefs switches) needs
 * `Authorization: Bearer <token>` when a token is configured. Tokens are compared in constant
 * time (their SHA-256 digests, so not even the length leaks) and never logged.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { HttpError } from './http-errors.ts'

const digest = (s: string) => createHash('sha256').update(s).digest()

/** Constant-time comparison of a presented token with the configured one. */
export function tokenMatches(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected))
}

export type WriteGuard = (req: FastifyRequest, reply: FastifyReply) => Promise<void>

/**
 * An onRequest hook for write routes: `{ onRequest: app.writeGuard }`. With no token
 * configured every write is allowed (the server refuses to listen off loopback that way
 * unless anonymous writes are explicitly allowed, see server.ts).
 */
export function writeGuard(token: string | undefined): WriteGuard {
  return async (req, reply) => {
    if (!token) return
    const m = /^Bearer +(\S+) *$/i.exec(req.headers.authorization ?? '')
    if (m && tokenMatches(m[1], token)) return
    reply.header('www-authenticate', 'Bearer realm="kscand-sim"')
    throw new HttpError(
      'EACCES',
      m ? 'the bearer token does not match' : 'writes need Authorization: Bearer <token>',
      401,
    )
  }
}
