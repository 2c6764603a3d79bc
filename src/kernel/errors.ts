/**
 * Errors of the simulated kernel. Every rejected command throws a KernelError whose errno
 * names the class of the problem the way the kernel would (EINVAL, ENOENT, ENOMEM, …) and
 * whose message names the argument. A rejected command leaves the state unchanged.
 */
export const ERRNO = {
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  E2BIG: 7,
  ENOMEM: 12,
  EACCES: 13,
  EBUSY: 16,
  EEXIST: 17,
  EINVAL: 22,
  ENOSPC: 28,
  ERANGE: 34,
} as const

export type ErrnoName = keyof typeof ERRNO

export class KernelError extends Error {
  readonly code: ErrnoName
  readonly errno: number

  constructor(code: ErrnoName, message: string) {
    super(message)
    this.name = 'KernelError'
    this.code = code
    this.errno = ERRNO[code]
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
