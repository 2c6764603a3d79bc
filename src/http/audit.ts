/**
 * Every accepted write is logged by pino (path, old → new, client) and emitted as a
 * `sysfs:sysfs_write` trace event. The writer shows up in the trace as pid 0 with comm
 * `http`: the simulated kernel has no process for the HTTP client, and pid 0 is what ftrace
 * prints for work done outside any task. Tokens never reach this log. A write that changes
 * the simulation is also recorded (`command`, recording.ts) with its virtual time, for GET
 * /sim/scenario; the clock's own writes and tracefs's pass null, and are recorded as a
 * trace-only `note` when their event was traced, so that a replay traces them too.
 */
import type { FastifyRequest } from 'fastify'
import type { Kernel } from '../kernel/kernel.ts'
import { EV } from '../kernel/trace.ts'
import type { Recordable, Recording } from './recording.ts'

declare module 'fastify' {
  interface FastifyInstance {
    /** The session's accepted commands (recording.ts), decorated by app.ts. */
    recording: Recording
  }
}

export const WRITER_PID = 0
export const WRITER_COMM = 'http'

export function auditWrite(
  kernel: Kernel,
  req: FastifyRequest,
  path: string,
  old: string,
  next: string,
  command: Recordable | null,
): void {
  req.log.info({ path, old, new: next, client: req.ip }, 'write accepted')
  const traced = traceWrite(kernel, path, old, next)
  if (command) req.server.recording.record(kernel.now, command)
  else if (traced) req.server.recording.record(kernel.now, { do: 'note', path, old, new: next })
}

/**
 * The `sysfs:sysfs_write` event of an accepted write, as the HTTP writer: the same event
 * whether the write came over HTTP or from a scenario's timeline (src/experiments).
 */
export function traceWrite(kernel: Kernel, path: string, old: string, next: string): boolean {
  if (!kernel.tracer.enabled(EV.sysfs_write)) return false
  kernel.tracer.emit(kernel.now * 1000, WRITER_PID, WRITER_COMM, EV.sysfs_write, [path, old, next])
  return true
}
