/**
 * Shared response shapes: the error body and the text-or-JSON pair every resource offers.
 */
import { type ZodType, z } from 'zod'
import { ERRNO, type ErrnoName } from '../kernel/errors.ts'

export const ErrorBody = z
  .object({
    errno: z.number().int().describe('the errno a kernel would return (22 for EINVAL)'),
    code: z.enum(Object.keys(ERRNO) as [ErrnoName, ...ErrnoName[]]),
    message: z.string().describe('what a shell user sees, e.g. `write error: Invalid argument`'),
    detail: z.string().describe('what exactly was wrong'),
  })
  .meta({ id: 'Error' })

const errorResponse = (description: string) => ({
  description,
  content: {
    'text/plain': { schema: z.string() },
    'application/json': { schema: ErrorBody },
  },
})

const ERROR_DESCRIPTIONS = {
  400: 'EINVAL: the value or request was rejected; nothing changed',
  401: 'EACCES: a token is configured and the request has no valid bearer token',
  403: 'EACCES: a request from another site (Origin, Sec-Fetch-Site), or a write to a 0444 file; EPERM: the kernel refuses it (stopping kswapd)',
  404: 'ENOENT / ESRCH: no such file, thread or process',
  405: 'EOPNOTSUPP: the method does not apply; EISDIR: a write to a directory; see the Allow header',
  409: "EOPNOTSUPP: not available in the daemon's present state; the message says why",
  412: 'ESTALE: If-Match does not match the current ETag; nothing changed',
  413: 'E2BIG: the body, the VMAs of a process, the state file or the session recording (RECORD_BYTES) would pass or passed their limit',
  415: 'EINVAL: unsupported content type',
  421: 'EACCES: the Host is not a name of this daemon (a loopback name, or one in ALLOWED_HOSTS)',
  429: 'EAGAIN: too many requests or streams from this address; see Retry-After',
  503: 'EAGAIN: too much queued, or shutting down; retry after Retry-After',
  507: 'ENOMEM: the simulated machine lacks the memory; ENOSPC: MAX_PROCESSES is reached',
} as const

export type ErrorStatus = keyof typeof ERROR_DESCRIPTIONS

/** Response entries for the error statuses a route can answer with. */
export function errors(...statuses: ErrorStatus[]) {
  return Object.fromEntries(statuses.map((s) => [s, errorResponse(ERROR_DESCRIPTIONS[s])]))
}

/** A 2xx response offered as text (what `cat` prints) or as JSON. */
export function textOrJson<T extends ZodType>(json: T, description: string) {
  return {
    description,
    content: {
      'text/plain': { schema: z.string() },
      'application/json': { schema: json },
    },
  }
}
