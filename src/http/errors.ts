/**
 * Errors the HTTP control plane answers with: an errno of the kernel's (kernel/errors.ts
 * declares each with its number and strerror() text) and the HTTP status it maps to.
 * Bodies are offered as text or as JSON `{errno, code, message}` by content negotiation
 * (see negotiate.ts).
 */
import type { Socket } from 'node:net'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod'
import { ERRNO, type ErrnoName, KernelError } from '../kernel/errors.ts'
import { isWrite } from './is-write.ts'
import { prefersJson } from './negotiate.ts'

/** The HTTP status each errno answers with (unless an error names its own). */
const STATUS: Record<ErrnoName, number> = {
  EPERM: 403,
  ENOENT: 404,
  ESRCH: 404,
  EIO: 500,
  E2BIG: 413,
  // Too many requests (429), or the process is overloaded (503): retry later.
  EAGAIN: 429,
  // The request is well-formed but the simulated machine lacks the memory: not a 503, which
  // would tell a proxy the daemon itself is unavailable.
  ENOMEM: 507,
  EACCES: 403,
  EBUSY: 409,
  EEXIST: 409,
  ENOTDIR: 404,
  // A write to a directory: the resource is there, the method does not apply (see Allow).
  EISDIR: 405,
  EINVAL: 400,
  // A configured limit (MAX_PROCESSES) is reached: 507 Insufficient Storage, like ENOMEM.
  ENOSPC: 507,
  ERANGE: 400,
  EOPNOTSUPP: 405,
  ETIMEDOUT: 408,
  ESTALE: 412,
}

/** An error with an errno and an HTTP status (which defaults to the errno's mapping). */
export class HttpError extends Error {
  readonly errno: number
  readonly statusCode: number

  constructor(
    readonly code: ErrnoName,
    /** What exactly was wrong; the strerror text is added when the error is sent. */
    readonly detail: string,
    statusCode?: number,
  ) {
    super(detail)
    this.name = 'HttpError'
    this.errno = ERRNO[code].errno
    this.statusCode = statusCode ?? STATUS[code]
  }
}

/** The JSON error body. */
export interface ErrorBody {
  errno: number
  code: ErrnoName
  /** The shell user's text: `write error: Invalid argument`. */
  message: string
  /** What exactly was wrong. */
  detail: string
}

interface FastifyLikeError {
  code?: string
  statusCode?: number
  message?: string
}

/** Maps anything a handler or fastify throws to an HttpError. */
export function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err
  if (err instanceof KernelError) return new HttpError(err.code, err.message)
  if (hasZodFastifySchemaValidationErrors(err)) {
    const issues = err.validation.map((v) => `${v.instancePath || '/'} ${v.message}`).join('; ')
    return new HttpError('EINVAL', `${err.validationContext ?? 'request'}: ${issues}`)
  }
  const e = (err ?? {}) as FastifyLikeError
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new HttpError('E2BIG', e.message ?? 'body too large')
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new HttpError('EINVAL', e.message ?? 'unsupported media type', 415)
  }
  const status = e.statusCode ?? 500
  if (status >= 400 && status < 500) {
    return new HttpError('EINVAL', e.message ?? 'bad request', status)
  }
  return new HttpError('EIO', 'internal error')
}

export function errorBody(req: FastifyRequest, err: HttpError): ErrorBody {
  const text = ERRNO[err.code].text
  const path = req.url.split('?')[0]
  return {
    errno: err.errno,
    code: err.code,
    message: isWrite(req.method) ? `write error: ${text}` : `${path}: ${text}`,
    detail: err.detail,
  }
}

/** Sends an error as JSON or as the one line a shell user would see. */
export function sendError(req: FastifyRequest, reply: FastifyReply, err: HttpError): FastifyReply {
  const body = errorBody(req, err)
  reply.code(err.statusCode)
  if (prefersJson(req)) return reply.type('application/json; charset=utf-8').send(body)
  return reply.type('text/plain; charset=utf-8').send(`${body.message}\n`)
}

/**
 * `Fastify({ frameworkErrors })`: errors fastify raises before any route or plugin runs (a
 * malformed %-escape in the URL, an over-long path parameter), answered like all others.
 */
export function frameworkErrors(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  sendError(req, reply, toHttpError(err))
}

/** What node's HTTP parser refuses before fastify sees a request, by parser error code. */
const CLIENT_ERRORS: Record<string, [ErrnoName, number, string]> = {
  ERR_HTTP_REQUEST_TIMEOUT: ['ETIMEDOUT', 408, 'Request Timeout'],
  HPE_HEADER_OVERFLOW: ['E2BIG', 431, 'Request Header Fields Too Large'],
}

/**
 * `Fastify({ clientErrorHandler })`: a request node's parser refuses (an unknown method such
 * as `FOO`, a malformed request line, headers too large, a timeout) answered with our body,
 * as text since its Accept header was never read, and the connection closed.
 */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return
  const [code, status, reason] = CLIENT_ERRORS[err.code ?? ''] ?? ['EINVAL', 400, 'Bad Request']
  const body = `request error: ${ERRNO[code].text} (${err.code ?? 'malformed request'})\n`
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    )
  }
  socket.destroy(err)
}
