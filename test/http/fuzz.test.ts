/**
 * Property test: generated bodies at every writable file. For each body: no 5xx; the write
 * is rejected exactly when the kernel's parser (or the store's validation) rejects it; a
 * rejection changes no state; an accepted write reads back as the oracle predicts.
 *
 * The oracle below is written from lib/kstrtox.c's rules with regular expressions and
 * BigInt, independently of src/sysfs/kstrto.ts.
 */
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Kernel } from '../../src/kernel/kernel.ts'
import type { SysfsFile } from '../../src/sysfs/file.ts'
import { sysfsTable } from '../../src/sysfs/table.ts'
import { type Built, build } from '../helpers/http.ts'
import { SMALL } from '../helpers/kernel.ts'

const RUNS = Number(process.env.FUZZ_RUNS ?? 10_000)

// ---- the oracle ------------------------------------------------------------------------

type Outcome = { accept: false } | { accept: true; text: string } | { accept: 'unchanged' }
const reject: Outcome = { accept: false }
/** Succeeds without a store: the file and the threads are as they were. */
const unchanged: Outcome = { accept: 'unchanged' }
const accept = (text: string | bigint | number): Outcome => ({ accept: true, text: `${text}\n` })

function unsigned(s: string, bits: 32 | 64): bigint | null {
  const m = /^\+?([0-9]+)\n?$/.exec(s)
  if (!m) return null
  const v = BigInt(m[1])
  return v < 1n << BigInt(bits) ? v : null
}

function int32(s: string): bigint | null {
  const m = /^([+-]?)([0-9]+)\n?$/.exec(s)
  if (!m) return null
  const v = m[1] === '-' ? -BigInt(m[2]) : BigInt(m[2])
  return v >= -(2n ** 31n) && v < 2n ** 31n ? v : null
}

function bool(s: string): boolean | null {
  if (/^([EeYyTt1]|[Oo][Nn])/.test(s)) return true
  if (/^([DdNnFf0]|[Oo][Ff])/.test(s)) return false
  return null
}

const TOP_TIER = new Set([0n, 1n])
const K = '/sys/kernel/mm/kscand'
const SYSCTL = '/proc/sys/kernel'
const DEBUGFS = '/sys/kernel/debug/sched/numa_balancing'

/** A base-0 number (0x hex, 0 octal, else decimal) at the start of `s`, and its length. */
const BASE0 = /^(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)/

/** The value of a BASE0 match: BigInt reads `0x…` itself; a leading 0 means octal. */
const base0Value = (digits: string) =>
  BigInt(/^0[0-7]+$/.test(digits) ? `0o${digits.slice(1)}` : digits)

/**
 * proc_dointvec_minmax on one int (kernel/sysctl.c), from its rules: the raw bytes (a NUL is
 * a byte like others), leading isspace() skipped, `-`?, a base-0 number of at most 20
 * characters with its sign, ending at a blank, tab, newline or the end; int range; [min, max].
 */
function dointvec(bytes: string, min: bigint, max: bigint): Outcome {
  const m = /^[ \t\n\v\f\r]*(-?)(.*)$/s.exec(bytes)!
  const n = BASE0.exec(m[2])
  if (!n) return reject
  const rest = m[2].slice(n[1].length)
  if (m[1].length + n[1].length >= 21) return reject
  if (rest !== '' && !/^[ \t\n]/.test(rest)) return reject
  const mag = base0Value(n[1])
  const v = m[1] ? -mag : mag
  return v >= min && v <= max ? accept(v) : reject
}

/** A debugfs u32: 23 bytes, a C string, kstrtoull base 0, stored modulo 2^32. */
function debugfsU32(bytes: string, nonZero: boolean): Outcome {
  const s = bytes.slice(0, 23).split('\0')[0]
  const m = /^\+?(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)\n?$/.exec(s)
  if (!m) return reject
  const v = base0Value(m[1])
  if (v >= 1n << 64n) return reject
  const stored = v % (1n << 32n)
  return nonZero && stored === 0n ? reject : accept(stored)
}

/** What writing `bytes` to `path` must do. */
function oracle(path: string, bytes: string): Outcome {
  // A zero-length write: sysfs_kf_write() and __do_proc_dointvec() return 0 before parsing;
  // debugfs's simple_attr_write() parses "" (EINVAL below).
  if (bytes === '' && !path.startsWith(`${DEBUGFS}/`)) return unchanged
  if (path === `${SYSCTL}/numa_balancing`) return dointvec(bytes, 0n, 4n)
  if (path.startsWith(`${SYSCTL}/`)) return dointvec(bytes, 0n, 2n ** 31n - 1n)
  if (path.startsWith(`${DEBUGFS}/`)) return debugfsU32(bytes, path.endsWith('/scan_size_mb'))
  const s = bytes.split('\0')[0]
  const name = path.split('/').pop() as string
  if (name === 'demotion_enabled' || path.includes('/quirks/')) {
    const b = bool(s)
    if (b === null) return reject
    return accept(name === 'demotion_enabled' ? String(b) : b ? 1 : 0)
  }
  if (name === 'target_node') {
    const v = int32(s)
    return v !== null && TOP_TIER.has(v) ? accept(v) : reject
  }
  const v = unsigned(s, name === 'mms_to_scan' ? 64 : 32)
  if (v === null) return reject
  if (name === 'scan_enabled') return v <= 1n ? accept(v) : reject
  if (name === 'mm_scan_period_ms') return accept(v < 600n ? 600n : v > 5000n ? 5000n : v)
  return accept(v)
}

/** A JSON body's bytes as the API documents them, or null when it must be rejected. */
function jsonBytes(body: unknown): string | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return null
  const keys = Object.keys(body)
  if (keys.length !== 1 || keys[0] !== 'value') return null
  const v = (body as { value: unknown }).value
  if (typeof v === 'string') return v
  if (typeof v === 'boolean') return v ? '1' : '0'
  if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v)
  return null
}

// ---- generators ------------------------------------------------------------------------

const ALPHABET = [
  '0',
  '1',
  '2',
  '5',
  '9',
  '+',
  '-',
  '\n',
  ' ',
  '\t',
  '\r',
  'x',
  'e',
  'E',
  'y',
  'n',
  'o',
  'O',
  'f',
  'F',
  'N',
  't',
  'd',
  '\0',
  '\xff',
  '.',
]
const numberText = fc
  .tuple(
    fc.constantFrom('', '', '', '+', '-', ' ', '0', '00', '0x', '++', '+-'),
    fc.oneof(
      fc.bigInt({ min: 0n, max: 2n ** 66n }),
      fc.constantFrom(
        0n,
        1n,
        2n,
        599n,
        600n,
        5000n,
        5001n,
        2n ** 31n - 1n,
        2n ** 31n,
        2n ** 32n - 1n,
        2n ** 32n,
        2n ** 63n,
        2n ** 64n - 1n,
        2n ** 64n,
      ),
    ),
    fc.constantFrom(
      '',
      '',
      '\n',
      '\n',
      '\n\n',
      ' ',
      '\r\n',
      'x',
      '\0',
      '\0junk',
      '\n\0\n',
      '.0',
      'e3',
    ),
  )
  .map(([pre, n, post]) => `${pre}${n}${post}`)
const word = fc.constantFrom(
  'on',
  'off',
  'On',
  'OFF',
  'yes',
  'no',
  'true',
  'false',
  'enable',
  'disable',
  'o',
  'of',
  'maybe',
  'Y\n',
  'n\n\n',
  '1abc',
  ' 1',
  '',
)
const soup = fc.array(fc.constantFrom(...ALPHABET), { maxLength: 24 }).map((a) => a.join(''))
const binary = fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b).toString('latin1'))
const huge = fc.integer({ min: 4097, max: 9000 }).map((n) => '1'.repeat(n))
const small = fc
  .tuple(fc.integer({ min: 0, max: 3 }), fc.constantFrom('', '\n'))
  .map(([n, nl]) => `${n}${nl}`)
const text = fc.oneof(
  { arbitrary: numberText, weight: 6 },
  { arbitrary: small, weight: 2 },
  { arbitrary: word, weight: 2 },
  { arbitrary: soup, weight: 3 },
  { arbitrary: binary, weight: 2 },
  { arbitrary: huge, weight: 1 },
)
const jsonValue = fc.oneof(
  text.filter((s) => s.length < 4000),
  fc.integer({ min: -5, max: 6000 }),
  fc.constantFrom(2 ** 53 - 1, 2 ** 53, 2 ** 64, -0, 0.5, 1e300, Number.MAX_SAFE_INTEGER),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 2 }),
)
const jsonBody = fc.oneof(
  { arbitrary: jsonValue.map((value) => ({ value })), weight: 6 },
  { arbitrary: fc.record({ value: jsonValue, extra: fc.integer() }), weight: 1 },
  { arbitrary: fc.constantFrom({}, [], [1], 'value', 7, null, { Value: 1 }), weight: 1 },
)

type Request =
  | { kind: 'raw'; type: string | null; bytes: string; method: 'PUT' | 'POST' }
  | { kind: 'json'; body: unknown; method: 'PUT' | 'POST' }
const request: fc.Arbitrary<Request> = fc.oneof(
  {
    arbitrary: fc.record({
      kind: fc.constant('raw' as const),
      type: fc.constantFrom(
        'application/x-www-form-urlencoded',
        'text/plain',
        'application/octet-stream',
        null,
      ),
      bytes: text,
      method: fc.constantFrom('PUT' as const, 'POST' as const),
    }),
    weight: 4,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('json' as const),
      body: jsonBody,
      method: fc.constantFrom('PUT' as const, 'POST' as const),
    }),
    weight: 1,
  },
)

// ---- the property ----------------------------------------------------------------------

let t: Built
let files: readonly SysfsFile[]
beforeAll(async () => {
  t = await build()
  files = t.files
})
afterAll(() => t.close())

function state() {
  const k = t.kernel
  return JSON.stringify({
    files: files.map((f) => f.show()),
    kscand: [
      k.kscand.sleep_expire,
      k.kscand.need_wakeup,
      k.kscand.thread.state,
      k.kscand.thread.last_wake,
    ],
    kmigrated: [k.kmigrated.sleep_expire, k.kmigrated.thread.state, k.kmigrated.thread.last_wake],
  })
}

/** The writable files, listed from a kernel of the same machine as the one under test. */
const WRITABLE = sysfsTable(new Kernel({ topology: SMALL, autostart: false }))
  .filter((f) => f.write)
  .map((f) => f.path)

describe('fuzzing every writable file', () => {
  it('covers every writable file', () => {
    expect(WRITABLE).toEqual([
      `${K}/scan_enabled`,
      `${K}/scan_sleep_ms`,
      `${K}/mm_scan_period_ms`,
      `${K}/mms_to_scan`,
      `${K}/target_node`,
      '/sys/kernel/mm/kmigrated/kmigrate_sleep_ms',
      '/sys/kernel/mm/kmigrated/quirks/kmigrated_sticky_slot',
      '/sys/kernel/mm/kmigrated/quirks/scan_budget_needs_candidates',
      '/sys/kernel/mm/kmigrated/quirks/kmigrated_wait_returns_at_once',
      '/sys/kernel/mm/numa/demotion_enabled',
      `${SYSCTL}/numa_balancing`,
      `${SYSCTL}/numa_balancing_promote_rate_limit_MBps`,
      `${DEBUGFS}/scan_delay_ms`,
      `${DEBUGFS}/scan_period_min_ms`,
      `${DEBUGFS}/scan_period_max_ms`,
      `${DEBUGFS}/scan_size_mb`,
      `${DEBUGFS}/hot_threshold_ms`,
      '/sys/kernel/numab/quirks/protnone_keeps_first_time',
      '/sys/kernel/numab/quirks/access_time_wraps',
      '/sys/kernel/numab/quirks/scan_period_doubling',
      '/sys/kernel/numab/quirks/threshold_creep',
    ])
  })

  it.each(WRITABLE.map((p) => [p]))(
    `%s: ${RUNS} bodies, rejected iff the parser rejects`,
    async (path) => {
      const file = files.find((f) => f.path === path)!
      let accepted = 0
      // The state a rejected body was checked against is the state before the next body
      // (nothing runs in between: the clock is paused), so state() is taken once a body.
      let known: string | null = null
      await fc.assert(
        fc.asyncProperty(request, async (req) => {
          const before = known ?? state()
          known = null
          const r =
            req.kind === 'raw'
              ? await t.server.inject({
                  method: req.method,
                  url: path,
                  payload: Buffer.from(req.bytes, 'latin1'),
                  headers: req.type ? { 'content-type': req.type } : {},
                })
              : await t.server.inject({
                  method: req.method,
                  url: path,
                  payload: JSON.stringify(req.body),
                  headers: { 'content-type': 'application/json' },
                })
          expect(r.statusCode).toBeLessThan(500)
          const bytes = req.kind === 'raw' ? req.bytes : jsonBytes(req.body)
          const size =
            req.kind === 'raw' ? req.bytes.length : Buffer.byteLength(JSON.stringify(req.body))
          const expected = bytes === null || size > 4096 ? reject : oracle(path, bytes)
          if (expected.accept === 'unchanged') {
            expect(r.statusCode).toBe(200)
            expect(state()).toBe(before)
            known = before
          } else if (expected.accept) {
            expect(r.statusCode).toBe(200)
            expect(r.body).toBe(expected.text)
            expect(file.show()).toBe(expected.text)
            accepted++
          } else {
            expect(r.statusCode).toBe(size > 4096 ? 413 : 400)
            expect(state()).toBe(before)
            known = before
          }
        }),
        { numRuns: RUNS },
      )
      // The generators reach both sides of the property.
      expect(accepted).toBeGreaterThan(RUNS / 20)
      expect(accepted).toBeLessThan(RUNS - RUNS / 20)
    },
  )
})
