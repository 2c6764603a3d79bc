/**
 * Who may write, and who may read. Every write (sysfs stores, thread start/stop, processes,
 * time, tracefs switches) needs `Authorization: Bearer <token>` when a write token is
 * configured; with only a read token, writes need that one. Reads are open, as sysfs 0644
 * files are world-readable, unless a read token is configured: then every read and the event
 * stream need the read token or the write token, bar the probes and the routes marked
 * `config: { public: true }` (the dashboard's files and the API documents, which hold no
 * state). Browsers cannot set headers on a websocket, so the stream also takes the token as
 * the subprotocol `TOKEN_PROTOCOL<base64url(token)>`. Tokens are compared in constant time
 * (their SHA-256 digests, so not even the length leaks) and never logged.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { HttpError } from './errors.ts'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Readable without the read token: the route serves no state. */
    public?: boolean
  }
}

/** Prefix of the subprotocol carrying a token: `<prefix><base64url(token)>`. */
export const TOKEN_PROTOCOL = 'base64url.bearer.authorization.kscand-sim.'

export interface Tokens {
  /** Writes need it; it grants reads too. */
  readonly write?: string
  /** Reads and the stream need it (or the write token). */
  readonly read?: string
}

const digest = (s: string) => createHash('sha256').update(s).digest()

/** Constant-time comparison of a presented token with the configured one. */
export function tokenMatches(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected))
}

const BEARER = /^Bearer +(\S+) *$/i

/** The token a request presents: its bearer token, or on an upgrade the token subprotocol. */
function presented(req: FastifyRequest): string | undefined {
  const m = BEARER.exec(req.headers.authorization ?? '')
  if (m) return m[1]
  if ((req.headers.upgrade ?? '').toLowerCase() !== 'websocket') return undefined
  const offered = (req.headers['sec-websocket-protocol'] ?? '')
    .split(',')
    .map((p) => p.trim())
    .find((p) => p.startsWith(TOKEN_PROTOCOL))
  return offered && Buffer.from(offered.slice(TOKEN_PROTOCOL.length), 'base64url').toString()
}

type Hook = (req: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) => void

/** A hook letting through requests that present one of `accepted`; `need` says what to send. */
function guard(accepted: readonly string[], need: string): Hook {
  return (req, reply, done) => {
    const given = presented(req)
    if (given !== undefined && accepted.some((t) => tokenMatches(given, t))) return done()
    reply.header('www-authenticate', 'Bearer realm="kscand-sim"')
    done(new HttpError('EACCES', given ? 'the bearer token does not match' : need, 401))
  }
}

/**
 * onRequest hooks for write routes: `{ onRequest: app.writeGuard }`. With no token
 * configured there is no hook at all and every write is allowed (the server refuses to
 * listen off loopback that way unless anonymous writes are explicitly allowed).
 */
export type WriteGuard = Hook[]

export function writeGuard(tokens: Tokens): WriteGuard {
  const token = tokens.write ?? tokens.read
  return token ? [guard([token], 'writes need Authorization: Bearer <token>')] : []
}

/** The onRequest hook guarding reads when a read token is configured; null when reads are open. */
export function readGuard(tokens: Tokens): Hook | null {
  if (!tokens.read) return null
  const check = guard(
    [tokens.read, ...(tokens.write ? [tokens.write] : [])],
    'reads need Authorization: Bearer <read token> (the stream also takes it as subprotocol ' +
      `${TOKEN_PROTOCOL}<base64url(token)>)`,
  )
  const isRead = (req: FastifyRequest) => ['GET', 'HEAD'].includes(req.method)
  return (req, reply, done) =>
    !isRead(req) || req.routeOptions.config?.public ? done() : check(req, reply, done)
}
