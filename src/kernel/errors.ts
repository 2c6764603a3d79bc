/**
 * Errors of the simulated kernel. Every rejected command throws a KernelError whose errno
 * names the class of the problem the way the kernel would (EINVAL, ENOENT, ENOMEM, …) and
 * whose message names the argument. A rejected command leaves the state unchanged.
 *
 * The errnos are declared here once, each with its number and its strerror() text (what a
 * shell user sees: `write error: Invalid argument`); the HTTP layer only adds a status.
 */
export const ERRNO = {
  EPERM: { errno: 1, text: 'Operation not permitted' },
  ENOENT: { errno: 2, text: 'No such file or directory' },
  ESRCH: { errno: 3, text: 'No such process' },
  EIO: { errno: 5, text: 'Input/output error' },
  E2BIG: { errno: 7, text: 'Argument list too long' },
  EAGAIN: { errno: 11, text: 'Resource temporarily unavailable' },
  ENOMEM: { errno: 12, text: 'Cannot allocate memory' },
  EACCES: { errno: 13, text: 'Permission denied' },
  EBUSY: { errno: 16, text: 'Device or resource busy' },
  EEXIST: { errno: 17, text: 'File exists' },
  ENOTDIR: { errno: 20, text: 'Not a directory' },
  EISDIR: { errno: 21, text: 'Is a directory' },
  EINVAL: { errno: 22, text: 'Invalid argument' },
  ENOSPC: { errno: 28, text: 'No space left on device' },
  ERANGE: { errno: 34, text: 'Numerical result out of range' },
  EOPNOTSUPP: { errno: 95, text: 'Operation not supported' },
  ETIMEDOUT: { errno: 110, text: 'Connection timed out' },
  ESTALE: { errno: 116, text: 'Stale file handle' },
} as const

export type ErrnoName = keyof typeof ERRNO

export class KernelError extends Error {
  readonly code: ErrnoName
  readonly errno: number

  constructor(code: ErrnoName, message: string) {
    super(message)
    this.name = 'KernelError'
    this.code = code
    this.errno = ERRNO[code].errno
  }
}

export function einval(message: string): KernelError {
  return new KernelError('EINVAL', message)
}

/** Throws EINVAL unless `value` is an integer in [min, max]. */
export function checkInt(what: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw einval(`${what} must be an integer in [${min}, ${max}], got ${String(value)}`)
  }
  return value
}

/** Throws EINVAL unless `value` is a finite number in [min, max]. */
export function checkNumber(what: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw einval(`${what} must be a number in [${min}, ${max}], got ${String(value)}`)
  }
  return value
}
