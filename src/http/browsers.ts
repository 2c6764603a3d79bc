/**
 * What a web page can make a browser send us, refused; what curl sends, untouched.
 *
 * - Host (every request, websocket upgrades included): a page that rebinds its own DNS name
 *   to this machine reaches us with *its* name in Host. Our names are the loopback names
 *   (`127.0.0.1`, `localhost`, `[::1]`), those in ALLOWED_HOSTS, and any IP literal (a
 *   browser sends one only when its page's own origin is that address, which rebinding
 *   cannot give it; and probes and scrapers address pods by IP), each with or without a
 *   port. A loopback bind answers only our names, another bind too when ALLOWED_HOSTS is
 *   set, and any Host otherwise; anything else is 421 Misdirected Request.
 * - Origin and Sec-Fetch-Site (every request that can change state: methods other than
 *   GET/HEAD/OPTIONS, and websocket upgrades): browsers send Origin on every cross-origin
 *   POST, form and no-cors fetch included, and Sec-Fetch-Site; curl and scripts send
 *   neither. A request with an Origin listed in ALLOWED_ORIGINS passes; one with our own
 *   origin passes unless Sec-Fetch-Site says otherwise; one with another Origin, or with
 *   Sec-Fetch-Site `cross-site`/`same-site`, is 403. Our own origin is the request's Host
 *   only when that Host is one of our names, never a name merely let through because no
 *   ALLOWED_HOSTS restricts it.
 */
import { isIP } from 'node:net'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { HttpError, sendError } from './errors.ts'

export interface BrowserPolicy {
  /** The daemon listens on a loopback address: only loopback names (and allowedHosts) answer. */
  readonly loopback: boolean
  /** `name` (any port) or `name:port`, lower case; IPv6 in brackets. */
  readonly allowedHosts: readonly string[]
  /** Exact origins (`https://dash.example:8443`) allowed to write and to open the stream. */
  readonly allowedOrigins: readonly string[]
}

/** The policy of a daemon on 127.0.0.1 with nothing configured. */
export const LOOPBACK_POLICY: BrowserPolicy = {
  loopback: true,
  allowedHosts: [],
  allowedOrigins: [],
}

export const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]'] as const

interface HostPort {
  /** Lower case; IPv6 in brackets. */
  readonly name: string
  /** Digits, or '' when absent. */
  readonly port: string
}

const NAME = /^[a-z0-9._-]+$/
const IPV6 = /^\[[0-9a-f:.]+\]$/
const PORT = /^\d{1,5}$/

/** `name[:port]` as in a Host header or an ALLOWED_HOSTS entry; null when malformed. */
export function parseHost(text: string): HostPort | null {
  const s = text.toLowerCase()
  const close = s.startsWith('[') ? s.indexOf(']') + 1 : 0
  const colon = s.indexOf(':', close)
  const name = colon < 0 ? s : s.slice(0, colon)
  const port = colon < 0 ? '' : s.slice(colon + 1)
  if (port !== '' && !PORT.test(port)) return null
  if (close > 0 ? !IPV6.test(name) || isIP(name.slice(1, -1)) !== 6 : !NAME.test(name)) {
    return null
  }
  return { name, port }
}

const isStateChanging = (req: FastifyRequest) =>
  !['GET', 'HEAD', 'OPTIONS'].includes(req.method) ||
  (req.headers.upgrade ?? '').toLowerCase() === 'websocket'

const defaultPort = (protocol: string) => (protocol === 'https:' ? '443' : '80')

type Hook = (req: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) => void

/** The onRequest hook enforcing `policy` on the routes of the instance it is added to. */
export function browserGuard(policy: BrowserPolicy): Hook {
  const named = [...LOOPBACK_NAMES, ...policy.allowedHosts].map((h) => parseHost(h) as HostPort)
  const isOurs = (h: HostPort) =>
    isIP(h.name.startsWith('[') ? h.name.slice(1, -1) : h.name) !== 0 ||
    named.some((n) => n.name === h.name && (n.port === '' || n.port === h.port))
  const enforced = policy.loopback || policy.allowedHosts.length > 0
  const origins = new Set(policy.allowedOrigins)

  /** Whether `origin` is the origin of the page we served at `host` (a name that is ours). */
  const isOwnOrigin = (origin: string, host: HostPort | null) => {
    if (host === null || !isOurs(host)) return false
    let url: URL
    try {
      url = new URL(origin)
    } catch {
      return false
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return false
    const port = (p: string) => p || defaultPort(url.protocol)
    return url.hostname === host.name && port(url.port) === port(host.port)
  }

  // Answered here, not through the instance's error handler: the probes have none of ours.
  const refuse = (req: FastifyRequest, reply: FastifyReply, err: HttpError) => {
    sendError(req, reply, err)
  }
  return (req, reply, done) => {
    const raw = req.headers.host
    const host = raw === undefined ? null : parseHost(raw)
    // No Host at all (HTTP/1.0) is never a browser.
    if (raw !== undefined && enforced && (host === null || !isOurs(host))) {
      return refuse(
        req,
        reply,
        new HttpError(
          'EACCES',
          `host ${JSON.stringify(raw.slice(0, 100))} is not a name of this daemon ` +
            '(a loopback name, or one in ALLOWED_HOSTS)',
          421,
        ),
      )
    }
    if (!isStateChanging(req)) return done()
    const origin = req.headers.origin
    const site = req.headers['sec-fetch-site']
    if (origin !== undefined && origins.has(origin)) return done()
    if (origin !== undefined && !isOwnOrigin(origin, host)) {
      return refuse(
        req,
        reply,
        new HttpError(
          'EACCES',
          `origin ${JSON.stringify(origin.slice(0, 100))} is neither this daemon's nor in ` +
            'ALLOWED_ORIGINS',
        ),
      )
    }
    if (site === 'cross-site' || site === 'same-site') {
      return refuse(
        req,
        reply,
        new HttpError('EACCES', `a ${site} request from a web page (Sec-Fetch-Site)`),
      )
    }
    done()
  }
}
