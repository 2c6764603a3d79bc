/**
 * The crash-safe state file: what the operator changed at run time (tunable writes, thread
 * start/stop, processes) so that a restart comes back to it.
 *
 * A save replaces the file atomically: the new content goes to `<path>.tmp` in the same
 * directory, is fsync'ed, renamed over the file, and the directory is fsync'ed so that the
 * rename itself is durable. A crash (even `kill -9` or a power cut) at any moment therefore
 * leaves either the old file or the new one, never a torn one. Loading validates the whole
 * file; a file that does not parse or validate is refused with a message saying why, never
 * silently ignored. A save that would write more than the loader reads (MAX_STATE_BYTES)
 * is refused instead, so every file written can be booted from.
 *
 * Saves at run time (`saveAsync`) do their I/O on libuv's thread pool: only building the
 * text runs on the event loop. The file is compact JSON, one line.
 */
import {
  closeSync,
  constants,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  type Stats,
  statSync,
  writevSync,
} from 'node:fs'
import { open, rename } from 'node:fs/promises'
import { dirname } from 'node:path'
import { z } from 'zod'
import { MAX_PROCESSES } from '../kernel/constants.ts'
import type { ProcessSpec } from '../kernel/spec.ts'
import { ProcessSpecSchema } from '../schemas/processes.ts'

export const STATE_FORMAT = 'kscand-sim-state'
/**
 * 2: every key snake_case (`saved_at`, `access_rate`, …). A version 1 file, written with the
 * camelCase keys of before, is migrated on load (V1_KEYS); the boot rewrites it as version 2.
 */
export const STATE_VERSION = 2
/** Far above any real state (processes are capped), small enough to read at once. */
export const MAX_STATE_BYTES = 16 * 1024 * 1024
export const MAX_STATE_PROCESSES = MAX_PROCESSES

export const ThreadWanted = z.enum(['running', 'stopped'])

/** The machine state a restart restores; see README "State file". */
export interface MachineState {
  readonly tunables: Readonly<Record<string, string>>
  readonly threads: Readonly<Record<string, z.infer<typeof ThreadWanted>>>
  readonly processes: readonly {
    readonly spec: ProcessSpec
    readonly pte_scan_scale: number
  }[]
}

const MachineStateSchema = z.strictObject({
  /** Last value written to each tunable written at run time, as `cat` shows it. */
  tunables: z.record(z.string().regex(/^\/sys\/[\w/]+$/), z.string().max(4096)),
  /** Every kernel thread: stopped or not. */
  threads: z.record(z.string().min(1).max(15), ThreadWanted),
  /** Live processes in pid order: how they were spawned and their prctl scan scale. */
  processes: z
    .array(
      z.strictObject({
        spec: ProcessSpecSchema,
        pte_scan_scale: z.number().int().min(0).max(10),
      }),
    )
    .max(MAX_STATE_PROCESSES),
}) satisfies z.ZodType<MachineState>

/**
 * The keys version 1 spelt in camelCase, and their names since: at the top of the document
 * and inside a process spec (its policy, workload and closed loop). A version 1 file with any
 * other key is refused as any file is, naming that key.
 */
const V1_KEYS: Readonly<Record<string, string>> = {
  savedAt: 'saved_at',
  accessRate: 'access_rate',
  closedLoop: 'closed_loop',
  thinkNs: 'think_ns',
  cpuNode: 'cpu_node',
  memNode: 'mem_node',
  hotFraction: 'hot_fraction',
  hotAccessFraction: 'hot_access_fraction',
  shiftAtMs: 'shift_at_ms',
  shiftFraction: 'shift_fraction',
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

function renameV1(v: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [V1_KEYS[k] ?? k, x]))
}

/** A version 1 spec with its keys renamed; what is not an object is left for the schema. */
function migrateSpec(spec: unknown): unknown {
  if (!isObject(spec)) return spec
  const out = renameV1(spec)
  for (const key of ['policy', 'workload', 'closed_loop']) {
    if (isObject(out[key])) out[key] = renameV1(out[key])
  }
  return out
}

/** A version 1 document as version 2; any other document as it is. */
function migrate(doc: unknown): unknown {
  if (!isObject(doc) || doc.format !== STATE_FORMAT || doc.version !== 1) return doc
  const out: Record<string, unknown> = { ...renameV1(doc), version: STATE_VERSION }
  const state = out.state
  if (isObject(state) && Array.isArray(state.processes)) {
    out.state = {
      ...state,
      processes: state.processes.map((p) =>
        isObject(p) ? { ...p, spec: migrateSpec(p.spec) } : p,
      ),
    }
  }
  return out
}

const StateDocument = z.strictObject({
  format: z.literal(STATE_FORMAT),
  version: z.literal(STATE_VERSION),
  saved_at: z.iso.datetime(),
  state: MachineStateSchema,
})

/** A state file that exists but cannot be used; `reason` says why in one line. */
export class StateFileError extends Error {
  constructor(
    readonly path: string,
    readonly kind: 'unreadable' | 'corrupt' | 'not a regular file',
    readonly reason: string,
  ) {
    super(`state file ${path} is ${kind}: ${reason}`)
    this.name = 'StateFileError'
  }
}

/** A save refused because the loader would refuse the file it writes. */
export class StateTooLargeError extends Error {
  override name = 'StateTooLargeError'
}

/**
 * The temporary file: created or truncated, never through a symlink, and never blocking on
 * a FIFO someone left at its name (ENXIO instead).
 */
const TMP_FLAGS =
  constants.O_WRONLY |
  constants.O_CREAT |
  constants.O_TRUNC |
  constants.O_NOFOLLOW |
  constants.O_NONBLOCK

const END = Buffer.from('}\n')

/** Throws unless all of `data` was written (libuv loops over IOV_MAX pieces itself). */
function checkWritten(written: number, data: readonly Buffer[]): void {
  const bytes = data.reduce((sum, p) => sum + p.length, 0)
  if (written !== bytes) throw new Error(`short write: ${written} of ${bytes} bytes`)
}

/** Writes `data` to `path` atomically and durably (see the module comment). */
export function writeFileAtomic(path: string, data: readonly Buffer[]): void {
  const tmp = `${path}.tmp`
  const fd = openSync(tmp, TMP_FLAGS, 0o600)
  try {
    checkWritten(writevSync(fd, data), data)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  renameSync(tmp, path)
  const dir = openSync(dirname(path), 'r')
  try {
    fsyncSync(dir)
  } finally {
    closeSync(dir)
  }
}

/** writeFileAtomic with the I/O off the event loop. */
export async function writeFileAtomicAsync(path: string, data: readonly Buffer[]): Promise<void> {
  const tmp = `${path}.tmp`
  const file = await open(tmp, TMP_FLAGS, 0o600)
  try {
    checkWritten((await file.writev([...data])).bytesWritten, data)
    await file.sync()
  } finally {
    await file.close()
  }
  await rename(tmp, path)
  const dir = await open(dirname(path), 'r')
  try {
    await dir.sync()
  } finally {
    await dir.close()
  }
}

/** What `stat` says a non-regular file is, for messages. */
function fileType(st: Stats): string {
  if (st.isFIFO()) return 'a FIFO'
  if (st.isSocket()) return 'a socket'
  if (st.isCharacterDevice()) return 'a character device'
  if (st.isBlockDevice()) return 'a block device'
  return 'not a regular file'
}

function firstIssue(err: z.ZodError): string {
  const issue = err.issues[0]
  const at = issue.path.length > 0 ? z.core.toDotPath(issue.path) : '(top level)'
  return `${at}: ${issue.message}`
}

export class StateFile {
  /** The pieces of the state last written or read, to skip saves that change nothing. */
  private last: readonly Buffer[] | null = null

  constructor(readonly path: string) {}

  /** The saved state, or null when there is no file. Throws StateFileError otherwise. */
  load(): MachineState | null {
    let text: string
    try {
      const st = statSync(this.path)
      // Reading a FIFO or a device could block the boot forever; a directory fails to read.
      if (!st.isFile() && !st.isDirectory()) {
        throw new StateFileError(this.path, 'not a regular file', fileType(st))
      }
      if (st.size > MAX_STATE_BYTES) {
        throw new StateFileError(
          this.path,
          'corrupt',
          `${st.size} bytes (at most ${MAX_STATE_BYTES})`,
        )
      }
      text = readFileSync(this.path, 'utf8')
    } catch (err) {
      if (err instanceof StateFileError) throw err
      const e = err as NodeJS.ErrnoException
      if (e.code === 'ENOENT') return null
      throw new StateFileError(this.path, 'unreadable', `${e.code ?? 'error'}: ${e.message}`)
    }
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch (err) {
      throw new StateFileError(this.path, 'corrupt', `not JSON (${(err as Error).message})`)
    }
    const doc = StateDocument.safeParse(migrate(json))
    if (!doc.success) throw new StateFileError(this.path, 'corrupt', firstIssue(doc.error))
    this.last = [Buffer.from(JSON.stringify(doc.data.state))]
    return doc.data.state
  }

  /**
   * Saves `state` unless it equals what the file already holds (or `force`); true when it
   * wrote. Throws (with the file left as it was) when the write fails.
   */
  save(state: MachineState, force = false): boolean {
    return this.saveParts([Buffer.from(JSON.stringify(state))], force)
  }

  /**
   * save() of a state given as the pieces of its JSON text (`JSON.stringify(state)` cut
   * anywhere), written as they are: unchanged pieces (the same buffers) cost nothing.
   */
  saveParts(parts: readonly Buffer[], force = false): boolean {
    if (!force && this.holds(parts)) return false
    writeFileAtomic(this.path, this.document(parts))
    this.last = parts
    return true
  }

  /** saveParts() with the I/O off the event loop; resolves once the file is durable. */
  async saveAsync(parts: readonly Buffer[]): Promise<boolean> {
    if (this.holds(parts)) return false
    await writeFileAtomicAsync(this.path, this.document(parts))
    this.last = parts
    return true
  }

  private holds(parts: readonly Buffer[]): boolean {
    const last = this.last
    if (last?.length !== parts.length) return false
    return parts.every((p, i) => p === last[i] || p.equals(last[i]))
  }

  /** The file's pieces; throws StateTooLargeError past what load() reads. */
  private document(parts: readonly Buffer[]): Buffer[] {
    const envelope = {
      format: STATE_FORMAT,
      version: STATE_VERSION,
      saved_at: new Date().toISOString(),
    }
    const doc = [Buffer.from(`${JSON.stringify(envelope).slice(0, -1)},"state":`), ...parts, END]
    const bytes = doc.reduce((sum, p) => sum + p.length, 0)
    if (bytes > MAX_STATE_BYTES) {
      throw new StateTooLargeError(
        `the state file would take ${bytes} bytes; it may take at most ${MAX_STATE_BYTES}`,
      )
    }
    return doc
  }

  /** Renames the file to `<path>.corrupt-<time>` and returns the new name. */
  moveAside(): string {
    const aside = `${this.path}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`
    renameSync(this.path, aside)
    return aside
  }
}
