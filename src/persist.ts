/**
 * Keeping the state file current: every accepted write (any non-GET request answered 2xx or
 * 3xx) saves the machine state *before* the response is sent, so an acknowledged write
 * survives `kill -9`. A save that fails turns the answer into 500 EIO: the change took
 * effect in memory but is not acknowledged as durable. Saves that would not change the file
 * (a clock step, a tracefs switch) write nothing.
 */
import type { FastifyInstance } from 'fastify'
import { HttpError } from './http-errors.ts'
import type { Kernel } from './kernel/kernel.ts'
import type { MachineState, StateFile } from './state-file.ts'
import type { SysfsFile } from './sysfs/table.ts'

const READS = new Set(['GET', 'HEAD', 'OPTIONS'])

export class Persistence {
  /** Tunables written at run time (restored ones included): the ones the file records. */
  readonly written = new Set<string>()
  private readonly writable: readonly SysfsFile[]
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
  }

  isTunable(path: string): boolean {
    return this.writable.some((f) => f.path === path)
  }

  capture(): MachineState {
    const k = this.kernel
    return {
      tunables: Object.fromEntries(
        this.writable
          .filter((f) => this.written.has(f.path))
          .map((f) => [f.path, f.show().trimEnd()]),
      ),
      threads: Object.fromEntries(
        k.threads().map((t) => [t.comm, t.state === 'stopped' ? 'stopped' : 'running']),
      ),
      processes: k
        .processList()
        .map((p) => ({ spec: p.spec, pte_scan_scale: p.mm.pte_scan_scale })),
    }
  }

  /** Saves the current state if it changed; throws when the file cannot be written. */
  save(): void {
    try {
      if (this.file.save(this.capture())) {
        this.saves++
        this.lastSaveAt = Date.now()
      }
    } catch (err) {
      this.failures++
      throw err
    }
  }
}

/** The onSend hook that saves after every accepted write; register it before the routes. */
export function persistWrites(fastify: FastifyInstance, persistence: Persistence): void {
  fastify.addHook('onSend', async (req, reply, payload) => {
    if (READS.has(req.method) || reply.statusCode >= 400) return payload
    const url = req.routeOptions.url
    if (url !== undefined && persistence.isTunable(url)) persistence.written.add(url)
    try {
      persistence.save()
    } catch (err) {
      req.log.error({ err }, 'state file save failed')
      throw new HttpError(
        'EIO',
        `the change took effect but could not be saved to ${persistence.file.path}: ` +
          `${(err as Error).message}; it will not survive a restart`,
      )
    }
    return payload
  })
}
