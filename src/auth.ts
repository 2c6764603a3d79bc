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

type Hook = (req: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) => void

/**
 * onRequest hooks for write routes: `{ onRequest: app.writeGuard }`. With no token
 * configured there is no hook at all and every write is allowed (the server refuses to
 * listen off loopback that way unless anonymous writes are explicitly allowed).
 */
export type WriteGuard = Hook[]

export function writeGuard(token: string | undefined): WriteGuard {
  if (!token) return []
  const guard: Hook = (req, reply, done) => {
    const m = /^Bearer +(\S+) *$/i.exec(req.headers.authorization ?? '')
    if (m && tokenMatches(m[1], token)) return done()
    reply.header('www-authenticate', 'Bearer realm="kscand-sim"')
    done(
      new HttpError(
        'EACCES',
        m ? 'the bearer token does not match' : 'writes need Authorization: Bearer <token>',
        401,
      ),
    )
  }
  return [guard]
}
