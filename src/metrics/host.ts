/**
 * The figures of what hosts the kernel, one list per source: the clock (virtual time and how
 * the runner drives it), the build, the event stream and the state file.
 */
import { DISCONNECTS, type EventStreamStats } from '../events/protocol.ts'
import type { Persistence } from '../host/persist.ts'
import type { SimRunner } from '../host/runner.ts'
import type { Kernel } from '../kernel/kernel.ts'
import { type Family, one, PREFIX } from './family.ts'

/**
 * The clock. `virtual_seconds_total` is what per-virtual-second rates divide by:
 * `rate(x[1m]) / rate(kscand_sim_virtual_seconds_total[1m])` is x per virtual second at any
 * SPEED (deploy/prometheus/rules.yml records them).
 */
export function clockFamilies(k: Kernel, runner: SimRunner): Family[] {
  return [
    {
      name: `${PREFIX}virtual_seconds_total`,
      type: 'counter',
      help: 'Virtual time of the simulation; divide rates by its rate for per-virtual-second ones.',
      read: () => one(k.now / 1e3),
    },
    {
      name: `${PREFIX}speed_ratio`,
      type: 'gauge',
      help: 'Virtual seconds per wall second in realtime mode.',
      read: () => one(runner.status().speed),
    },
    {
      name: `${PREFIX}lag_seconds`,
      type: 'gauge',
      help: 'Virtual time the simulation is behind its realtime target.',
      read: () => one(runner.status().lag_ms / 1e3),
    },
    {
      name: `${PREFIX}mode`,
      type: 'gauge',
      help: 'How the clock runs: 1 for the current mode.',
      labels: ['mode'],
      read: () => {
        const mode = runner.status().mode
        return (['realtime', 'paused', 'afap'] as const).map(
          (m) => [{ mode: m }, m === mode ? 1 : 0] as const,
        )
      },
    },
  ]
}

/** `version`: kscand-sim's, as `--version` prints it (the process hands it in). */
export function buildFamilies(version: string): Family[] {
  return [
    {
      name: `${PREFIX}build_info`,
      type: 'gauge',
      help: 'Always 1; the version of kscand-sim and of the Node.js that runs it as labels.',
      labels: ['version', 'node_version'],
      read: () => [[{ version, node_version: process.version }, 1]],
    },
  ]
}

/** The event stream's figures; without an event stream (`get` gives null) no samples. */
export function eventStreamFamilies(get: () => EventStreamStats | null): Family[] {
  const stream = (pick: (s: EventStreamStats) => number) => () => {
    const s = get()
    return s ? one(pick(s)) : []
  }
  return [
    {
      name: `${PREFIX}events_subscribers`,
      type: 'gauge',
      help: 'Event-stream subscribers connected.',
      read: stream((s) => s.subscribers),
    },
    {
      name: `${PREFIX}events_batches_total`,
      type: 'counter',
      help: 'Event-stream batch frames sent.',
      read: stream((s) => s.batches),
    },
    {
      name: `${PREFIX}events_sent_total`,
      type: 'counter',
      help: 'Events delivered to subscribers.',
      read: stream((s) => s.events),
    },
    {
      name: `${PREFIX}events_lost_total`,
      type: 'counter',
      help: 'Events reported lost to slow subscribers.',
      read: stream((s) => s.lost),
    },
    {
      name: `${PREFIX}events_disconnects_total`,
      type: 'counter',
      help: `Event-stream subscribers disconnected, by reason: ${DISCONNECTS.join(', ')}.`,
      labels: ['reason'],
      read: () =>
        Object.entries(get()?.disconnects ?? {}).map(([reason, n]) => [{ reason }, n] as const),
    },
  ]
}

/** The state file's figures; without a state file no samples. */
export function stateFileFamilies(p: Persistence | null): Family[] {
  return [
    {
      name: `${PREFIX}state_file_saves_total`,
      type: 'counter',
      help: 'Writes of the state file.',
      read: () => (p ? one(p.saves) : []),
    },
    {
      name: `${PREFIX}state_file_save_failures_total`,
      type: 'counter',
      help: 'Failed writes of the state file.',
      read: () => (p ? one(p.failures) : []),
    },
    {
      name: `${PREFIX}state_file_last_save_timestamp_seconds`,
      type: 'gauge',
      help: 'Wall time of the last write of the state file.',
      read: () => (p === null || p.lastSaveAt === null ? [] : one(p.lastSaveAt / 1e3)),
    },
  ]
}
