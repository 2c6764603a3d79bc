/**
 * The kernel's string-to-number parsers (lib/kstrtox.c), as sysfs stores see the bytes a
 * user wrote: a C string, so the input ends at the first NUL.
 *
 * kstrto{ull,ul,uint,ll,int}(s, 10, &res): an optional sign (`+` for unsigned; `+` or `-`
 * for signed), one or more decimal digits, at most one `\n`, then the end. No leading or
 * trailing whitespace, no `0x`. A value outside the type's range is ERANGE (checked before
 * trailing junk, as `_kstrtoull` does), anything else malformed is EINVAL.
 *
 * kstrtobool(s, &res) looks at one or two characters only: true for `E e Y y T t 1` and
 * `o`/`O` followed by `n`/`N`; false for `D d N n F f 0` and `o`/`O` followed by `f`/`F`
 * (t/f since v6.0, e/d — "enabled"/"disabled" — since v6.16, the V3 base; so `yes`, `1abc`
 * and `Off` are all accepted). Anything else is EINVAL.
 */

export type KstrtoError = 'EINVAL' | 'ERANGE'

export type Parsed<T> = { readonly ok: true; readonly value: T } | KstrtoFailure

export interface KstrtoFailure {
  readonly ok: false
  readonly err: KstrtoError
}

const EINVAL: KstrtoFailure = { ok: false, err: 'EINVAL' }
const ERANGE: KstrtoFailure = { ok: false, err: 'ERANGE' }
const ok = <T>(value: T): Parsed<T> => ({ ok: true, value })

export const U64_MAX = (1n << 64n) - 1n
const S64_MIN_MAGNITUDE = 1n << 63n
const U32_MAX = 0xffff_ffffn
const S32_MAX = 0x7fff_ffffn
const S32_MIN = -0x8000_0000n

/** The C string the kernel sees: the written bytes up to the first NUL. */
export function cString(buf: string): string {
  const nul = buf.indexOf('\0')
  return nul < 0 ? buf : buf.slice(0, nul)
}

/** _kstrtoull(s, 10, &res): no sign handling. */
function parseUnsignedDigits(s: string): Parsed<bigint> {
  let i = 0
  while (i < s.length) {
    const c = s.charCodeAt(i)
    if (c < 0x30 || c > 0x39) break
    i++
  }
  if (i === 0) return EINVAL
  const value = BigInt(s.slice(0, i))
  if (value > U64_MAX) return ERANGE
  if (s.charCodeAt(i) === 0x0a) i++
  return i === s.length ? ok(value) : EINVAL
}

export function kstrtoull(s: string): Parsed<bigint> {
  return parseUnsignedDigits(s.startsWith('+') ? s.slice(1) : s)
}

/** unsigned long is 64 bits on the 64-bit kernels kscand targets. */
export const kstrtoul = kstrtoull

export function kstrtouint(s: string): Parsed<number> {
  const r = kstrtoull(s)
  if (!r.ok) return r
  return r.value > U32_MAX ? ERANGE : ok(Number(r.value))
}

export function kstrtoll(s: string): Parsed<bigint> {
  if (s.startsWith('-')) {
    const r = parseUnsignedDigits(s.slice(1))
    if (!r.ok) return r
    // (long long)-tmp > 0 exactly when tmp > 2^63
    return r.value > S64_MIN_MAGNITUDE ? ERANGE : ok(-r.value)
  }
  const r = kstrtoull(s)
  if (!r.ok) return r
  return r.value >= S64_MIN_MAGNITUDE ? ERANGE : r
}

export function kstrtoint(s: string): Parsed<number> {
  const r = kstrtoll(s)
  if (!r.ok) return r
  return r.value > S32_MAX || r.value < S32_MIN ? ERANGE : ok(Number(r.value))
}

export function kstrtobool(s: string): Parsed<boolean> {
  switch (s[0]) {
    case 'e':
    case 'E':
    case 'y':
    case 'Y':
    case 't':
    case 'T':
    case '1':
      return ok(true)
    case 'd':
    case 'D':
    case 'n':
    case 'N':
    case 'f':
    case 'F':
    case '0':
      return ok(false)
    case 'o':
    case 'O':
      switch (s[1]) {
        case 'n':
        case 'N':
          return ok(true)
        case 'f':
        case 'F':
          return ok(false)
      }
  }
  return EINVAL
}

/** _parse_integer_fixup_radix() and _parse_integer() for base 0: `0x` hex, leading `0` octal. */
function parseInteger0(s: string, at: number): { value: bigint; end: number; overflow: boolean } {
  let i = at
  let base = 10n
  if (s[i] === '0') {
    const x = s[i + 1]
    if ((x === 'x' || x === 'X') && /^[0-9a-fA-F]$/.test(s[i + 2] ?? '')) {
      base = 16n
      i += 2
    } else base = 8n
  }
  let value = 0n
  let overflow = false
  for (; i < s.length; i++) {
    const d = Number.parseInt(s[i], 16)
    if (Number.isNaN(d) || BigInt(d) >= base) break
    value = value * base + BigInt(d)
    if (value > U64_MAX) overflow = true
  }
  return { value, end: i, overflow }
}

/**
 * kstrtoull(s, 0, &res), as debugfs' simple attributes call it: an optional `+`, then hex
 * with `0x`, octal with a leading `0`, else decimal; one optional `\n`. Overflow is ERANGE.
 */
export function kstrtoull0(s: string): Parsed<bigint> {
  const from = s.startsWith('+') ? 1 : 0
  const r = parseInteger0(s, from)
  if (r.overflow) return ERANGE
  if (r.end === from) return EINVAL
  const end = s.charCodeAt(r.end) === 0x0a ? r.end + 1 : r.end
  return end === s.length ? ok(r.value) : EINVAL
}

/** isspace() of lib/ctype.c over ASCII. */
const isSpace = (c: string | undefined) =>
  c === ' ' || c === '\t' || c === '\n' || c === '\v' || c === '\f' || c === '\r'

/** proc_get_long() copies at most TMPBUFLEN - 1 bytes of the number. */
const TMPBUFLEN = 22
const INT_MAX = 0x7fff_ffff

/**
 * The write side of proc_dointvec() for one int (kernel/sysctl.c): leading whitespace is
 * skipped, then an optional `-`, a digit, and an unsigned long in base 0 (`0x` hex, leading
 * `0` octal); the number must end at whitespace or at the end of the write. Whatever follows
 * after whitespace is ignored (the kernel consumes it without parsing). Every failure is
 * EINVAL, including an empty write, a NUL byte and a value outside int.
 */
export function procDointvec(buf: string): Parsed<number> {
  let p = 0
  let left = Math.min(buf.length, 4095)
  while (left > 0 && isSpace(buf[p])) {
    p++
    left--
  }
  if (!left) return EINVAL
  const tmp = buf.slice(p, p + Math.min(left, TMPBUFLEN - 1))
  let q = 0
  const neg = tmp[0] === '-' && left > 1
  if (neg) q++
  if (!(tmp[q] >= '0' && tmp[q] <= '9')) return EINVAL
  const r = parseInteger0(tmp, q)
  if (r.overflow) return EINVAL
  const len = r.end
  if (len === TMPBUFLEN - 1) return EINVAL
  if (len < left && !(tmp[len] === ' ' || tmp[len] === '\t' || tmp[len] === '\n')) return EINVAL
  if (neg ? r.value > BigInt(INT_MAX) + 1n : r.value > BigInt(INT_MAX)) return EINVAL
  return ok(neg ? -Number(r.value) : Number(r.value))
}
