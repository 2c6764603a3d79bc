/**
 * One simulated sysfs file and the machinery every table of them is declared with: the
 * kstrto* parsers a store may use, `knob` (a 0644 file: show, parse, store) and `readOnly`
 * (a 0444 file). table.ts and the other groups (numa-balancing.ts, the tracefs files) list
 * their files with these.
 */
import { type ZodType, z } from 'zod'
import { KernelError } from '../kernel/errors.ts'
import {
  cString,
  kstrtobool,
  kstrtoint,
  kstrtouint,
  kstrtoul,
  kstrtoull0,
  type Parsed,
  procDointvec,
} from './kstrto.ts'

const PARSERS = {
  kstrtouint,
  kstrtoul,
  kstrtoint,
  kstrtobool,
  // debugfs simple attributes: kstrtoull(s, 0) of at most 23 bytes.
  kstrtoull: (s: string) => kstrtoull0(cString(s.slice(0, 23))),
  proc_dointvec_minmax: procDointvec,
}
/** Parsers that see the raw bytes (a NUL included), not the C string up to the first NUL. */
const RAW: ReadonlySet<ParserName> = new Set(['kstrtoull', 'proc_dointvec_minmax'])
export type ParserName = keyof typeof PARSERS
type ParsedValue<P extends ParserName> =
  ReturnType<(typeof PARSERS)[P]> extends Parsed<infer T> ? T : never

/** One file. `show()` is the full text `cat` prints, trailing newline included. */
export interface SysfsFile {
  readonly path: string
  readonly mode: 0o644 | 0o444
  readonly doc: string
  /** A kscand-sim extension, not a file of the V3 series. */
  readonly extension: boolean
  /** The kstrto* function the store parses with (writable files only). */
  readonly parser?: ParserName
  /** Schema of the JSON `value`. */
  readonly value: ZodType
  show(): string
  json(): unknown
  /**
   * A short account of the content where show() can be long (tracefs's `trace`): what the
   * write audit records before and after, and what a directory's tag covers. Default: show().
   */
  brief?(): string
  /**
   * Parses the written bytes as the store would and stores them; throws EINVAL (and changes
   * nothing) when the parser or the kernel's validation rejects them; a zero-length write
   * does what the file's kernel code does with it (PARSES_EMPTY_WRITE). `append` is true for a
   * write opened for appending (`>>`, POST) and false (the default) for a truncating one
   * (`>`, PUT); only files whose kernel handler looks at O_TRUNC (tracefs's set_event,
   * trace) tell them apart.
   */
  write?(buf: string, append?: boolean): void
}

export function formatMode(mode: number): string {
  return `0${mode.toString(8)}`
}

/** %*pbl: a sorted node list as ranges, `0-1,3`. */
export function rangeList(ids: readonly number[]): string {
  const parts: string[] = []
  let i = 0
  while (i < ids.length) {
    let j = i
    while (j + 1 < ids.length && ids[j + 1] === ids[j] + 1) j++
    parts.push(j > i ? `${ids[i]}-${ids[j]}` : `${ids[i]}`)
    i = j + 1
  }
  return parts.join(',')
}

/**
 * Parses with `parser`, flattening every kstrto error to EINVAL as the V3 stores do, unless
 * the store passes the parser's errno through (`passErrno`).
 */
function parse<P extends ParserName>(
  parser: P,
  path: string,
  buf: string,
  passErrno = false,
): ParsedValue<P> {
  const r = PARSERS[parser](RAW.has(parser) ? buf : cString(buf)) as Parsed<ParsedValue<P>>
  if (r.ok) return r.value
  const shown = JSON.stringify(buf.length > 40 ? `${buf.slice(0, 40)}…` : buf)
  throw new KernelError(
    passErrno ? r.err : 'EINVAL',
    `${path}: ${parser}(${shown}) failed with ${r.err}`,
  )
}

export const U32 = z
  .number()
  .int()
  .min(0)
  .max(2 ** 32 - 1)
interface Knob<P extends ParserName, T> {
  readonly path: string
  readonly parser: P
  readonly doc: string
  readonly value: ZodType
  readonly extension?: boolean
  /** The store returns the parser's errno (ERANGE …) rather than EINVAL for every failure. */
  readonly passErrno?: boolean
  get(): T
  /** The text after the value; the value itself is `String(get())` unless given. */
  format?(v: T): string
  toJson?(v: T): unknown
  store(v: ParsedValue<P>): void
}

/**
 * Parsers whose files hand a zero-length write to them. sysfs_kf_write() returns 0 before
 * the store when count is 0, and __do_proc_dointvec() returns 0 when `*lenp` is 0, so an
 * empty write to a sysfs or sysctl file succeeds and changes nothing; debugfs's
 * simple_attr_write() parses the empty buffer, and kstrtoull("") is EINVAL
 * (docs/spec/kernel-interfaces.md §5.2).
 */
const PARSES_EMPTY_WRITE: ReadonlySet<ParserName> = new Set(['kstrtoull'])

export function knob<P extends ParserName, T>(k: Knob<P, T>): SysfsFile {
  const format = k.format ?? String
  const skipsEmpty = !PARSES_EMPTY_WRITE.has(k.parser)
  return {
    path: k.path,
    mode: 0o644,
    doc: k.doc,
    extension: k.extension ?? false,
    parser: k.parser,
    value: k.value,
    show: () => `${format(k.get())}\n`,
    json: () => (k.toJson ? k.toJson(k.get()) : k.get()),
    write: (buf) => {
      if (buf.length === 0 && skipsEmpty) return
      k.store(parse(k.parser, k.path, buf, k.passErrno))
    },
  }
}

export function readOnly(
  path: string,
  doc: string,
  value: ZodType,
  show: () => string,
  json: () => unknown,
): SysfsFile {
  return { path, mode: 0o444, doc, extension: false, value, show, json }
}
