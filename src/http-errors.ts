/**
 * Errors the HTTP control plane answers with, declared once: each has the errno a kernel
 * would return, its strerror() text (what a shell user sees: `write error: Invalid argument`)
 * and its HTTP status. Bodies are offered as text or as JSON `{errno, code, message}` by
 * content negotiation (see negotiate.ts).
 */
import type { Socket } from 'node:net'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod'
import { isWrite } from './is-write.ts'
import { KernelError } from './kernel/errors.ts'
import { prefersJson } from './negotiate.ts'

export const ERRNOS = {
  EPERM: { errno: 1, text: 'Operation not permitted', status: 403 },
  ENOENT: { errno: 2, text: 'No such file or directory', status: 404 },
  ESRCH: { errno: 3, text: 'No such process', status: 404 },
  EIO: { errno: 5, text: 'Input/output error', status: 500 },
  E2BIG: { errno: 7, text: 'Argument list too long', status: 413 },
  // Too many requests (429), or the process is overloaded (503): retry later.
  EAGAIN: { errno: 11, text: 'Resource temporarily unavailable', status: 429 },
  // The request is well-formed but the simulated machine lacks the memory: not a 503, which
  // would tell a proxy the daemon itself is unavailable.
  ENOMEM: { errno: 12, text: 'Cannot allocate memory', status: 507 },
  EACCES: { errno: 13, text: 'Permission denied', status: 403 },
  EBUSY: { errno: 16, text: 'Device or resource busy', status: 409 },
  EEXIST: { errno: 17, text: 'File exists', status: 409 },
  ENOTDIR: { errno: 20, text: 'Not a directory', status: 404 },
  EINVAL: { errno: 22, text: 'Invalid argument', status: 400 },
  // A configured limit (MAX_PROCESSES) is reached: 507 Insufficient Storage, like ENOMEM.
  ENOSPC: { errno: 28, text: 'No space left on device', status: 507 },
  ERANGE: { errno: 34, text: 'Numerical result out of range', status: 400 },
  EOPNOTSUPP: { errno: 95, text: 'Operation not supported', status: 405 },
  ETIMEDOUT: { errno: 110, text: 'Connection timed out', status: 408 },
  ESTALE: { errno: 116, text: 'Stale file handle', status: 412 },
} as const

export type ErrnoCode = keyof typeof ERRNOS

/** An error with an errno and an HTTP status (which defaults to the errno's mapping). */
export class HttpError extends Error {
  readonly errno: number
  readonly statusCode: number

  constructor(
    readonly code: ErrnoCode,
    /** What exactly was wrong; the strerror text is added when the error is sent. */
    readonly detail: string,
    statusCode?: number,
  ) {
    super(detail)
    this.name = 'HttpError'
    this.errno = ERRNOS[code].errno
    this.statusCode = statusCode ?? ERRNOS[code].status
  }
}

/** The JSON error body. */
export interface ErrorBody {
  errno: number
  code: ErrnoCode
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
  const text = ERRNOS[err.code].text
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
const CLIENT_ERRORS: Record<string, [ErrnoCode, number, string]> = {
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
  const body = `request error: ${ERRNOS[code].text} (${err.code ?? 'malformed request'})\n`
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    )
  }
  socket.destroy(err)
}
