/**
 * The session's recording, for GET /sim/scenario (docs/experiments.md §7):
 * every accepted state-changing command, with the virtual ms it was applied at, as a
 * scenario's timeline command (schemas/scenario.ts). `auditWrite` records it, so whatever
 * is audited is recorded, and a write the state file could not keep is taken back with it
 * (host/persist.ts). The boot — seed and machine — is the scenario's `seed` and `machine`.
 *
 * The clock (PUT /sim mode and speed, POST /sim/step) and tracefs (tracing_on,
 * buffer_size_kb, the enable files) are no commands: they change when and what is observed,
 * not the simulation. Their `sysfs:sysfs_write` line, when it was traced, is recorded as a
 * trace-only `note` (path, old, new) that a replay emits at the same virtual ms through the
 * same traceWrite (experiments/commands.ts) without applying it, so the replay's trace is the
 * live one byte for byte. The events enabled when the scenario is asked for become its
 * `record.trace.events`, the selection of the whole replay.
 *
 * Bounded: the commands take at most `maxBytes` (RECORD_BYTES) as JSON. The command that
 * would exceed it and all after it are not kept; from then on the scenario cannot be given,
 * and GET /sim/scenario says so (413) instead of answering a truncated one.
 */

import type { z } from 'zod'
import { FULL_NAMES } from '../events/format.ts'
import type { Kernel } from '../kernel/kernel.ts'
import type { TopologySpec } from '../kernel/machine.ts'
import type { ProcessSpec } from '../kernel/spec.ts'
import { type Command, Scenario } from '../schemas/scenario.ts'
import { HttpError } from './errors.ts'

/** Default of RECORD_BYTES: some ten thousand commands. */
export const DEFAULT_RECORD_BYTES = 1024 * 1024

/** A timeline command without its time: what a route hands to `auditWrite`. */
export type Recordable = Command extends infer C
  ? C extends Command
    ? Omit<C, 'at_ms'>
    : never
  : never

/** What the daemon booted, as a scenario states it. */
export interface BootDescription {
  readonly seed: number
  readonly machine: {
    readonly topology: TopologySpec
    readonly processes: readonly ProcessSpec[]
    readonly tunables: Readonly<Record<string, string | number | boolean>>
  }
  /** The boot restored a state file: the session does not start from the machine. */
  readonly restored: boolean
}

/** Where the recording stood: taken before a write, put back if the write is undone. */
export interface Mark {
  readonly length: number
  readonly bytes: number
  readonly overflowAt: number | null
}

export class Recording {
  private readonly commands: Command[] = []
  private bytes = 0
  /** Virtual ms of the first command that did not fit, if one did not. */
  private overflowAt: number | null = null

  /** `boot` is null when the app was given no boot description (tests that build a kernel). */
  constructor(
    private readonly boot: BootDescription | null,
    readonly maxBytes = DEFAULT_RECORD_BYTES,
  ) {}

  get length(): number {
    return this.commands.length
  }

  record(at_ms: number, command: Recordable): void {
    if (this.overflowAt !== null) return
    const c = { at_ms, ...command } as Command
    const n = JSON.stringify(c).length + 1
    if (this.bytes + n > this.maxBytes) {
      this.overflowAt = at_ms
      return
    }
    this.commands.push(c)
    this.bytes += n
  }

  mark(): Mark {
    return { length: this.commands.length, bytes: this.bytes, overflowAt: this.overflowAt }
  }

  /** Forgets what was recorded since `m`. */
  restore(m: Mark): void {
    this.commands.length = m.length
    this.bytes = m.bytes
    this.overflowAt = m.overflowAt
  }

  /**
   * The scenario that reproduces the session from boot to now, validated by the scenario
   * schema; an HttpError when there is none (the reason in its message).
   */
  scenario(kernel: Kernel): z.infer<typeof Scenario> {
    const why = (message: string, status = 409): never => {
      throw new HttpError(status === 413 ? 'E2BIG' : 'EOPNOTSUPP', message, status)
    }
    if (this.boot === null) why('this daemon was started without a boot description to record')
    const boot = this.boot as BootDescription
    if (boot.restored) {
      why(
        'the daemon restored its state file at boot: the session does not start from a ' +
          'machine a scenario can state (start without STATE_FILE to record one)',
      )
    }
    if (this.overflowAt !== null) {
      why(
        `the recording outgrew RECORD_BYTES (${this.maxBytes} bytes) at ${this.overflowAt} ms: ` +
          'the commands after it were not kept (raise RECORD_BYTES and restart)',
        413,
      )
    }
    if (kernel.now === 0) why('the virtual clock is still at 0 ms: nothing to reproduce yet')
    const events = FULL_NAMES.filter((_, id) => kernel.tracer.on[id] === 1)
    const doc = {
      name: 'session',
      description: `the daemon's session from boot to ${kernel.now} virtual ms (GET /sim/scenario)`,
      seed: boot.seed,
      machine: {
        topology: boot.machine.topology,
        processes: boot.machine.processes,
        tunables: boot.machine.tunables,
      },
      timeline: this.commands,
      duration_ms: kernel.now,
      record: {
        series_interval_ms: 1000,
        ...(events.length > 0 && { trace: { format: 'trace_pipe' as const, events } }),
      },
    }
    const parsed = Scenario.safeParse(doc)
    if (!parsed.success) {
      throw new HttpError('EIO', `the recorded scenario does not validate: ${parsed.error.message}`)
    }
    return parsed.data
  }
}
