/**
 * The process's logger: pino JSON lines on stdout, with secrets redacted. On a terminal the
 * lines are rendered for people instead (`12:00:01.234 INFO  message key=value`); the
 * decision is made on `isTTY`, never on NODE_ENV. One line per request, at a level of its
 * own (REQUEST_LOG_LEVEL).
 */
import { Writable } from 'node:stream'
import { type FastifyReply, type FastifyRequest, LogController } from 'fastify'
import type { LevelWithSilent, LoggerOptions } from 'pino'

/** Where a token or credential can appear in a logged object. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["sec-websocket-protocol"]',
  'headers.authorization',
  'config.KSCAND_SIM_TOKEN',
  'config.KSCAND_SIM_READ_TOKEN',
  'token',
  '*.token',
]

const LEVELS: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
}
const OMIT = new Set(['level', 'time', 'msg', 'pid', 'hostname'])

/** One pino JSON line as a line for a terminal. */
export function prettyLine(line: string): string {
  let o: Record<string, unknown>
  try {
    o = JSON.parse(line)
  } catch {
    return line
  }
  const time = new Date(Number(o.time)).toISOString().slice(11, 23)
  const level = (LEVELS[Number(o.level)] ?? String(o.level)).padEnd(5)
  const rest = Object.entries(o)
    .filter(([k]) => !OMIT.has(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ')
  return `${time} ${level} ${o.msg ?? ''}${rest ? ` ${rest}` : ''}\n`
}

function prettyStream(out: NodeJS.WritableStream): Writable {
  return new Writable({
    write(chunk, _enc, done) {
      const text = String(chunk)
      out.write(
        text
          .split('\n')
          .filter((l) => l.length > 0)
          .map(prettyLine)
          .join(''),
      )
      done()
    },
  })
}

/** A URL as logged: the path, and `?[redacted]` for a query (a token may be put there). */
export function loggedUrl(url: string): string {
  const q = url.indexOf('?')
  return q < 0 ? url : `${url.slice(0, q)}?[redacted]`
}

/** Fastify's request serializer, but with the query string redacted; other objects pass. */
function serializeRequest(req: FastifyRequest) {
  if (typeof req?.url !== 'string') return req
  return {
    method: req.method,
    url: loggedUrl(req.url),
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort,
  }
}

export interface LoggerConfig {
  readonly LOG_LEVEL: string
}

/** pino options for fastify's `logger`: JSON to stdout, or pretty lines on a terminal. */
export function loggerOptions(
  config: LoggerConfig,
  out: NodeJS.WriteStream = process.stdout,
): LoggerOptions & { stream?: NodeJS.WritableStream } {
  return {
    level: config.LOG_LEVEL,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: { req: serializeRequest },
    ...(out.isTTY ? { stream: prettyStream(out) } : {}),
  }
}

/** Routes probed or scraped every few seconds: their requests log at debug (unless silent). */
const PROBES = new Set(['/healthz', '/readyz', '/metrics'])

/** Fastify's request logging as one `request completed` line at `level`, errors at error. */
export class RequestLog extends LogController {
  constructor(private readonly level: LevelWithSilent) {
    super()
  }

  override incomingRequest(): void {}

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    const line = { req: request, res: reply, responseTime: reply.elapsedTime }
    if (error) {
      reply.log.error({ ...line, err: error }, 'request errored')
      return
    }
    const probe = PROBES.has(request.routeOptions.url ?? '')
    const level = probe && this.level !== 'silent' ? 'debug' : this.level
    if (level !== 'silent') reply.log[level](line, 'request completed')
  }
}
