/**
 * Keeping the state file current: every accepted write (a request that `isWrite`, answered
 * 2xx or 3xx) saves the machine state *before* the response is sent, so an acknowledged write
 * survives `kill -9`. Saves that would not change the file (a tracefs switch) write nothing.
 *
 * Writes are serialized: a write takes the write lock before its handler runs and gives it
 * back once its save is durable (or failed), so the state a save captures is exactly the
 * one the write left. The line of writes waiting is bounded (WRITE_QUEUE; 503 EAGAIN with
 * Retry-After beyond). The file's I/O runs off the event loop (state-file.ts), and its
 * text is built from per-process pieces computed once, so a large state does not stall
 * other requests while it is saved.
 *
 * A save that fails undoes the write before the error is answered: the write did not take
 * effect, so a retry does not duplicate it, and the writes after it (which save the state
 * as the file already holds it) succeed. Undone are tunables (the old value is written
 * back), thread start/stop, new processes (they exit; the pid they took is not reused) and
 * prctl scales, and the write's entry in the session's recording (http/recording.ts). An exit cannot be undone, so `DELETE /processes/:pid` saves the state
 * without the process first (`saveWithout`) and applies the exit only once that is durable.
 *
 * Limits: exec and fork are refused with E2BIG when the process's record would not fit in
 * the state file (`admit`), and the last check before writing refuses any file larger than
 * the loader reads, so every file written can be booted from.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { HttpError } from '../http/errors.ts'
import { isWrite } from '../http/is-write.ts'
import type { Mark } from '../http/recording.ts'
import { KernelError } from '../kernel/errors.ts'
import type { Kernel } from '../kernel/kernel.ts'
import type { Process } from '../kernel/mm.ts'
import type { ProcessSpec } from '../kernel/spec.ts'
import type { SysfsFile } from '../sysfs/file.ts'
import { writtenText } from '../sysfs/written.ts'
import { BoundedQueue, QueueFullError } from './queue.ts'
import { MAX_STATE_BYTES, type StateFile, StateTooLargeError } from './state-file.ts'

/** The constant pieces of the process records (see `parts`). */
const FIRST = Buffer.from('{"spec":')
const NEXT = Buffer.from(',{"spec":')
const SCALE = Array.from({ length: 11 }, (_, s) => Buffer.from(`,"pte_scan_scale":${s}}`))
const CLOSE = Buffer.from(']}')
/** Default of WRITE_QUEUE. */
export const DEFAULT_WRITE_QUEUE = 256
/** Seconds a write turned away by a full write queue is told to wait. */
const WRITE_RETRY_AFTER_S = 1

declare module 'fastify' {
  interface FastifyInstance {
    /** The state file's keeper when STATE_FILE is set (decorated by ops.ts). */
    persistence?: Persistence | null
  }
  interface FastifyContextConfig {
    /** A write that changes nothing the state file holds and takes no write lock. */
    unsaved?: boolean
  }
}

/** What a write may change that the state file holds, as it was before: for undoing it. */
interface Before {
  readonly tunables: ReadonlyMap<string, string>
  readonly stopped: ReadonlySet<string>
  readonly scales: ReadonlyMap<number, number>
  readonly written: ReadonlySet<string>
}

export class Persistence {
  /** Tunables written at run time (restored ones included): the ones the file records. */
  readonly written = new Set<string>()
  private readonly writable: readonly SysfsFile[]
  /** Each spec's JSON, computed once per spec (a fork shares its parent's). */
  private readonly specJson = new WeakMap<ProcessSpec, Buffer>()
  /** Bytes of the file kept for everything but the processes: tunables at their longest. */
  private readonly reserved: number
  saves = 0
  failures = 0
  /** Wall ms of the last save that wrote the file. */
  lastSaveAt: number | null = null

  constructor(
    readonly file: StateFile,
    private readonly kernel: Kernel,
    files: readonly SysfsFile[],
  ) {
    this.writable = files.filter((f) => f.write)
    // The envelope and the threads take well under 1 KiB; a tunable's value at most 4096
    // characters (the loader's limit; the final size check catches any escaping).
    this.reserved =
      1024 + this.writable.reduce((sum, f) => sum + JSON.stringify(f.path).length + 4100, 0)
  }

  isTunable(path: string): boolean {
    return this.writable.some((f) => f.path === path)
  }

  /**
   * The state the file records, as the pieces of `JSON.stringify` of a MachineState: the
   * tunables and threads (small, built each time), then per process its spec's JSON (one
   * buffer per spec, made once) between shared constant pieces. Nothing large is built or
   * copied on the event loop. `without` is left out.
   */
  parts(without?: Process): Buffer[] {
    const k = this.kernel
    const tunables: Record<string, string> = {}
    for (const f of this.writable)
      if (this.written.has(f.path)) tunables[f.path] = f.show().trimEnd()
    const threads: Record<string, string> = {}
    for (const t of k.threads()) threads[t.comm] = t.state === 'stopped' ? 'stopped' : 'running'
    const parts: Buffer[] = [
      Buffer.from(
        `{"tunables":${JSON.stringify(tunables)},"threads":${JSON.stringify(threads)},"processes":[`,
      ),
    ]
    for (const p of k.processList()) {
      if (p === without) continue
      parts.push(parts.length === 1 ? FIRST : NEXT, this.spec(p.spec), SCALE[p.mm.pte_scan_scale])
    }
    parts.push(CLOSE)
    return parts
  }

  private spec(spec: ProcessSpec): Buffer {
    let json = this.specJson.get(spec)
    if (json === undefined) {
      json = Buffer.from(JSON.stringify(spec))
      this.specJson.set(spec, json)
    }
    return json
  }

  /**
   * The kernel's `admitProcess`: E2BIG when the process's record would not fit in the state
   * file next to the others (each counted at its longest) and the reserve for the tunables.
   */
  admit(spec: ProcessSpec): void {
    let bytes = this.reserved
    for (const s of [...this.kernel.processList().map((q) => q.spec), spec]) {
      bytes += NEXT.length + this.spec(s).length + SCALE[10].length
    }
    if (bytes > MAX_STATE_BYTES) {
      throw new KernelError(
        'E2BIG',
        `the state file would outgrow ${MAX_STATE_BYTES} bytes with this process's record`,
      )
    }
  }

  /** Saves the current state (if it changed, or `force`), synchronously: boot and shutdown. */
  save(force = false): void {
    try {
      if (this.file.saveParts(this.parts(), force)) this.wrote()
    } catch (err) {
      this.failures++
      throw err
    }
  }

  /**
   * Saves the current state (less `without`) with the I/O off the event loop; resolves once
   * it is durable. Throws the HttpError to answer when it cannot be saved.
   */
  async saveAsync(without?: Process): Promise<void> {
    const parts = this.parts(without)
    try {
      if (await this.file.saveAsync(parts)) this.wrote()
    } catch (err) {
      this.failures++
      if (err instanceof StateTooLargeError) throw new HttpError('E2BIG', err.message)
      throw new HttpError(
        'EIO',
        `the change could not be saved to ${this.file.path}: ${(err as Error).message}; ` +
          'nothing changed',
      )
    }
  }

  private wrote(): void {
    this.saves++
    this.lastSaveAt = Date.now()
  }

  snapshot(): Before {
    const k = this.kernel
    return {
      tunables: new Map(this.writable.map((f) => [f.path, f.show().trimEnd()])),
      stopped: new Set(
        k
          .threads()
          .filter((t) => t.state === 'stopped')
          .map((t) => t.comm),
      ),
      scales: new Map(k.processList().map((p) => [p.pid, p.mm.pte_scan_scale])),
      written: new Set(this.written),
    }
  }

  /** Puts back what the file holds as `before` had it (module comment: what is undone). */
  rollback(before: Before): void {
    const k = this.kernel
    for (const f of this.writable) {
      const old = before.tunables.get(f.path) as string
      if (f.show().trimEnd() !== old) f.write?.(old)
    }
    this.written.clear()
    for (const path of before.written) this.written.add(path)
    for (const t of k.threads()) {
      const wasStopped = before.stopped.has(t.comm)
      if (wasStopped && t.state !== 'stopped') k.stopThread(t.comm)
      if (!wasStopped && t.state === 'stopped') k.startThread(t.comm)
    }
    for (const p of [...k.processList()]) {
      const scale = before.scales.get(p.pid)
      if (scale === undefined) k.exit(p.pid)
      else p.mm.pte_scan_scale = scale
    }
  }
}

/**
 * The hooks that serialize writes and save after every accepted one; register them before
 * the routes.
 */
export function persistWrites(
  fastify: FastifyInstance,
  persistence: Persistence,
  maxQueued = DEFAULT_WRITE_QUEUE,
): void {
  const queue = new BoundedQueue(maxQueued)
  const held = new WeakMap<
    FastifyRequest,
    { release: () => void; before: Before; recorded: Mark }
  >()
  const locked = (req: FastifyRequest) =>
    isWrite(req.method) && req.routeOptions.config.unsaved !== true

  fastify.addHook('preHandler', async (req: FastifyRequest, reply: FastifyReply) => {
    if (!locked(req)) return
    let release: () => void
    try {
      release = await queue.acquire()
    } catch (err) {
      if (!(err instanceof QueueFullError)) throw err
      reply.header('retry-after', WRITE_RETRY_AFTER_S)
      throw new HttpError(
        'EAGAIN',
        `${queue.length} writes are being saved or waiting (WRITE_QUEUE); retry later`,
        503,
      )
    }
    held.set(req, {
      release,
      before: persistence.snapshot(),
      recorded: req.server.recording.mark(),
    })
  })
  fastify.addHook('onSend', async (req, reply, payload) => {
    const h = held.get(req)
    if (!h) return payload
    held.delete(req)
    try {
      if (reply.statusCode >= 400) return payload
      const url = req.routeOptions.url
      // A zero-length write succeeds without writing (sysfs/file.ts): the file records
      // only tunables that were written.
      if (url !== undefined && persistence.isTunable(url) && writtenText(req.body) !== '') {
        persistence.written.add(url)
      }
      try {
        await persistence.saveAsync()
      } catch (err) {
        req.log.error({ err }, 'state file save failed: the write is undone')
        persistence.rollback(h.before)
        req.server.recording.restore(h.recorded)
        throw err
      }
      return payload
    } finally {
      h.release()
    }
  })
}
