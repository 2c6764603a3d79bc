/**
 * The tracefs files, declared in the sysfs table's terms (src/sysfs/table.ts): trace,
 * available_events, set_event, available_tracers, current_tracer, tracing_on,
 * buffer_size_kb, per_cpu/cpu0/stats and the enable files of every declared event, its
 * system and all events (docs/spec/kernel-interfaces.md §6). trace_pipe, a stream, is served
 * by its own route (routes/tracing.ts) and listed beside them. Writes are parsed as the
 * kernel's tracefs handlers do and change nothing when rejected.
 */
import { z } from 'zod'
import { KernelError } from '../kernel/errors.ts'
import { EVENTS } from '../kernel/trace.ts'
import { readOnly, type SysfsFile } from '../sysfs/file.ts'
import { cString, kstrtoul } from '../sysfs/kstrto.ts'
import { TRACEFS } from '../sysfs/table.ts'
import { FULL_NAMES, formatTimestamp } from './format.ts'
import type { EventHub } from './hub.ts'
import { SLOT_BYTES } from './ring.ts'

export { TRACEFS }

/** Files served by a route of their own rather than by the table: listed with it. */
export const TRACEFS_STREAMS = [
  {
    name: 'trace_pipe',
    doc:
      'Blocks until events arrive and streams them as trace_pipe lines (`curl -N`); events ' +
      'read here are consumed (another reader does not see them). When the buffer overwrote ' +
      'events before they were read, a `CPU:0 [LOST N EVENTS]` line says how many.',
  },
] as const

const ALL = EVENTS.map((_, i) => i)

/** Most events tracefs's ring may hold: `trace` prints them all in one read. */
export const MAX_TRACE_EVENTS = 1 << 18

/** The one tracer there is: events only, no function tracing. */
const TRACER = 'nop'

/** kstrtoul_from_user(…, 10, &val), as the tracefs write handlers parse. */
function ulong(path: string, buf: string): bigint {
  const r = kstrtoul(cString(buf))
  if (!r.ok) throw new KernelError(r.err, `${path}: not an unsigned decimal number`)
  return r.value
}

/** Reads `0`, `1`, or `X` when the events disagree (events.rst). */
function enableState(on: Uint8Array, ids: readonly number[]): 0 | 1 | 'X' {
  const n = ids.reduce((s, id) => s + on[id], 0)
  return n === 0 ? 0 : n === ids.length ? 1 : 'X'
}

const ZeroOne = z.union([z.literal(0), z.literal(1)])

/** A writable tracefs file (mode 0644). */
function handler(f: Omit<SysfsFile, 'mode' | 'extension'>): SysfsFile {
  return { ...f, mode: 0o644, extension: false }
}

function enableFile(hub: EventHub, path: string, ids: readonly number[], doc: string): SysfsFile {
  const on = hub.traceEvents
  return handler({
    path,
    doc,
    parser: 'kstrtoul',
    value: ids.length === 1 ? ZeroOne : z.union([ZeroOne, z.literal('X')]),
    show: () => `${enableState(on, ids)}\n`,
    json: () => enableState(on, ids),
    write: (buf) => {
      const v = ulong(path, buf)
      if (v > 1n) throw new KernelError('EINVAL', `${path}: write 0 or 1`)
      hub.expand()
      hub.setTraceEvents(ids, v === 1n)
    },
  })
}

/** Longest set_event token (EVENT_BUF_SIZE, the trace_parser's buffer, less its NUL). */
const MAX_TOKEN = 127

/**
 * The events one set_event token names, as ftrace_set_clr_event() matches them:
 * `system:event`, where an empty or `*` part matches all, or a bare word, which names an
 * event or a whole system. Names compare exactly (strcmp): no other globbing.
 */
function setEventMatch(token: string): number[] {
  const colon = token.indexOf(':')
  const any = (part: string) => part === '' || part === '*'
  const ids = EVENTS.flatMap((e, i) => {
    if (colon < 0) return token === e.name || token === e.system ? [i] : []
    const system = token.slice(0, colon)
    const name = token.slice(colon + 1)
    return (any(system) || system === e.system) && (any(name) || name === e.name) ? [i] : []
  })
  return ids
}

/**
 * A set_event write: whitespace-separated tokens, each enabling what it names, or with a
 * leading `!` disabling it. Every token is checked before any is applied, so a rejected
 * write changes nothing (the kernel applies the tokens before the bad one).
 */
function writeSetEvent(hub: EventHub, path: string, buf: string, append: boolean): void {
  const tokens = cString(buf)
    .split(/[ \t\n\r\v\f]+/)
    .filter((t) => t !== '')
  const changes = tokens.map((t) => {
    const set = !t.startsWith('!')
    const name = set ? t : t.slice(1)
    const shown = JSON.stringify(t.length > 40 ? `${t.slice(0, 40)}…` : t)
    if (t.length > MAX_TOKEN) throw new KernelError('EINVAL', `${path}: ${shown} is too long`)
    const ids = setEventMatch(name)
    if (ids.length === 0) throw new KernelError('EINVAL', `${path}: ${shown} names no event`)
    return { ids, set }
  })
  hub.expand()
  // A truncating write (`>`) first disables every event (ftrace_clear_events).
  if (!append) hub.setTraceEvents(ALL, false)
  for (const c of changes) hub.setTraceEvents(c.ids, c.set)
}

const PipeStats = z.object({
  entries: z.number().int(),
  overrun: z.number().int(),
  'commit overrun': z.number().int(),
  bytes: z.number().int(),
  'oldest event ts': z.string(),
  'now ts': z.string(),
  'dropped events': z.number().int(),
  'read events': z.number().int(),
})

/**
 * The header `trace` starts with, as ftrace prints it for the nop tracer with the default
 * options (irq-info on, one CPU): `entries-in-buffer` counts the unconsumed events,
 * `entries-written` adds those overwritten before anyone read them (get_total_entries()).
 */
export function traceHeader(entries: number, overrun: number): string {
  return (
    `# tracer: ${TRACER}\n` +
    '#\n' +
    `# entries-in-buffer/entries-written: ${entries}/${entries + overrun}   #P:1\n` +
    '#\n' +
    '#                                _-----=> irqs-off/BH-disabled\n' +
    '#                               / _----=> need-resched\n' +
    '#                              | / _---=> hardirq/softirq\n' +
    '#                              || / _--=> preempt-depth\n' +
    '#                              ||| / _-=> migrate-disable\n' +
    '#                              |||| /     delay\n' +
    '#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION\n' +
    '#              | |         |   |||||     |         |\n'
  )
}

const lines = (names: readonly string[]) => names.map((n) => `${n}\n`).join('')

export function tracefsFiles(hub: EventHub): SysfsFile[] {
  const systems = [...new Set(EVENTS.map((e) => e.system))]
  const idsOf = (system: string) => EVENTS.flatMap((e, i) => (e.system === system ? [i] : []))
  const enabledNames = () => FULL_NAMES.filter((_, i) => hub.traceEvents[i] === 1)
  const stats = () => {
    const s = hub.pipeStats()
    return {
      entries: s.entries,
      overrun: s.overrun,
      'commit overrun': 0,
      bytes: s.entries * SLOT_BYTES,
      'oldest event ts': formatTimestamp(s.oldestUs),
      'now ts': formatTimestamp(hub.kernel.now * 1000),
      'dropped events': 0,
      'read events': s.readEvents,
    }
  }
  const trace = () => {
    const s = hub.pipeStats()
    return { header: traceHeader(s.entries, s.overrun), lines: hub.traceLines(), ...s }
  }
  return [
    readOnly(
      `${TRACEFS}/available_events`,
      'Every event that can be enabled, one `system:event` per line.',
      z.array(z.string()),
      () => lines(FULL_NAMES),
      () => FULL_NAMES,
    ),
    readOnly(
      `${TRACEFS}/available_tracers`,
      'The tracers current_tracer takes: only `nop` (events, no function tracing).',
      z.array(z.string()),
      () => `${TRACER}\n`,
      () => [TRACER],
    ),
    handler({
      path: `${TRACEFS}/buffer_size_kb`,
      doc:
        'Size of the trace buffer in KiB. At boot it reads `7 (expanded: 1408)`, the two-page ' +
        'buffer the kernel starts with and the size the first use (an enable, set_event, ' +
        `current_tracer or buffer_size_kb write) expands it to. Each event takes ${SLOT_BYTES} ` +
        'bytes; a write resizes the buffer, keeping the newest events that fit. 0 is EINVAL; ' +
        `above ${MAX_TRACE_EVENTS} events, ENOMEM.`,
      parser: 'kstrtoul',
      value: z.union([z.number().int(), z.string()]),
      show: () =>
        hub.expanded ? `${hub.bufferKb}\n` : `${hub.bufferKb} (expanded: ${hub.expandedKb})\n`,
      json: () => (hub.expanded ? hub.bufferKb : `${hub.bufferKb} (expanded: ${hub.expandedKb})`),
      write: (buf) => {
        const path = `${TRACEFS}/buffer_size_kb`
        const kb = ulong(path, buf)
        if (kb === 0n) throw new KernelError('EINVAL', `${path}: the size must be positive`)
        if ((kb * 1024n) / BigInt(SLOT_BYTES) > BigInt(MAX_TRACE_EVENTS)) {
          throw new KernelError('ENOMEM', `${path}: at most ${MAX_TRACE_EVENTS} events fit`)
        }
        hub.setBufferKb(Number(kb))
      },
    }),
    handler({
      path: `${TRACEFS}/current_tracer`,
      doc: 'The tracer: `nop`, the only one; writing `nop` is accepted, any other name is EINVAL.',
      value: z.literal(TRACER),
      show: () => `${TRACER}\n`,
      json: () => TRACER,
      write: (buf) => {
        // tracing_set_trace_write(): at most MAX_TRACER_SIZE bytes, blanks stripped.
        const name = cString(buf).slice(0, 100).trim()
        if (name !== TRACER) {
          throw new KernelError('EINVAL', `${TRACEFS}/current_tracer: no tracer ${name}`)
        }
        hub.expand()
      },
    }),
    readOnly(
      `${TRACEFS}/per_cpu/cpu0/stats`,
      'The trace buffer as trace_pipe sees it: unread entries, events overwritten before they ' +
        'were read (overrun) and events read.',
      PipeStats,
      () =>
        Object.entries(stats())
          .map(([k, v]) => `${k}: ${v}\n`)
          .join(''),
      stats,
    ),
    handler({
      path: `${TRACEFS}/set_event`,
      doc:
        'The events enabled in tracefs, one `system:event` per line. A write takes ' +
        'whitespace-separated names: `system:event`, `system:*` (or `system:`), `*:event`, ' +
        '`*:*`, or a bare word naming an event or a system; `!` before one disables it. PUT ' +
        'truncates (`>`: every event is disabled first), POST appends (`>>`); an empty PUT ' +
        'disables all. A name that matches no event is EINVAL, and then nothing changes.',
      value: z.array(z.string()),
      show: () => lines(enabledNames()),
      json: enabledNames,
      write: (buf, append = false) => writeSetEvent(hub, `${TRACEFS}/set_event`, buf, append),
    }),
    handler({
      path: `${TRACEFS}/trace`,
      doc:
        'The trace buffer, read without consuming it: the `# tracer: nop` header with ' +
        'entries-in-buffer/entries-written, then one ftrace line per unread event. A ' +
        'truncating write (PUT, `echo > trace`) empties the buffer; an appending one (POST) ' +
        'does nothing.',
      value: z.object({
        entries_in_buffer: z.number().int(),
        entries_written: z.number().int(),
        lines: z.array(z.string()),
      }),
      show: () => {
        const t = trace()
        return t.header + lines(t.lines)
      },
      brief: () => {
        const s = hub.pipeStats()
        return `entries-in-buffer/entries-written: ${s.entries}/${s.entries + s.overrun}\n`
      },
      json: () => {
        const t = trace()
        return {
          entries_in_buffer: t.entries,
          entries_written: t.entries + t.overrun,
          lines: t.lines,
        }
      },
      // The kernel empties the buffer when `trace` is opened with O_TRUNC; what is written
      // is then ignored (tracing_write_stub).
      write: (_buf, append) => {
        if (!append) hub.clearTrace()
      },
    }),
    handler({
      path: `${TRACEFS}/tracing_on`,
      doc:
        'Whether events are written into the trace buffer (1) or not (0); any non-zero write ' +
        'turns it on. The websocket stream is not affected.',
      parser: 'kstrtoul',
      value: ZeroOne,
      show: () => `${Number(hub.tracingOn)}\n`,
      json: () => Number(hub.tracingOn),
      write: (buf) => hub.setTracingOn(ulong(`${TRACEFS}/tracing_on`, buf) !== 0n),
    }),
    enableFile(hub, `${TRACEFS}/events/enable`, ALL, 'Every event.'),
    ...systems.map((s) =>
      enableFile(hub, `${TRACEFS}/events/${s}/enable`, idsOf(s), `Every ${s} event.`),
    ),
    ...EVENTS.map((e, i) =>
      enableFile(hub, `${TRACEFS}/events/${e.system}/${e.name}/enable`, [i], e.doc),
    ),
  ]
}
