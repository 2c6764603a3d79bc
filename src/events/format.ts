/**
 * The two renderings of an event, both derived from the declarations in kernel/trace.ts:
 * the ftrace line trace_pipe prints and the JSON object the websocket stream sends.
 */
import {
  EVENTS,
  type FieldType,
  formatEvent,
  formatPointer,
  type TraceEvent,
} from '../kernel/trace.ts'
import type { RingEvent } from './ring.ts'

/** `system:name`, as perf and the stream name events. */
export const FULL_NAMES: readonly string[] = EVENTS.map((e) => `${e.system}:${e.name}`)

/** `secs.usecs` of a µs timestamp, secs right-aligned in 5 columns (`%5lu.%06lu`). */
export function formatTimestamp(us: number): string {
  const t = Math.floor(us)
  return `${String(Math.floor(t / 1e6)).padStart(5)}.${String(t % 1e6).padStart(6, '0')}`
}

/**
 * One trace_pipe line, without the newline: `%16s-%-7d [%03d] <flags> %5lu.%06lu: name: text`
 * (trace_print_context with irq-info: one CPU, no irq/preempt state to show).
 */
export function traceLine(ev: TraceEvent): string {
  return (
    `${ev.comm.padStart(16)}-${String(ev.pid).padEnd(7)} [000] ..... ` +
    `${formatTimestamp(ev.ts)}: ${EVENTS[ev.id].name}: ${formatEvent(ev)}`
  )
}

/** ftrace's note that a reader missed events the ring overwrote before it read them. */
export function lostLine(count: number): string {
  return `CPU:0 [LOST ${count} EVENTS]`
}

const jsonValue: Record<FieldType, (v: number | string) => string> = {
  ptr: (v) => `"${formatPointer(v as number)}"`,
  long: String,
  ulong: String,
  int: String,
  uint: String,
  str: (v) => JSON.stringify(v),
}

const EVENT_KEYS = FULL_NAMES.map((n) => `,"event":"${n}","comm":`)
const FIELD_KEYS = EVENTS.map((e) => e.fields.map((f, k) => `${k ? ',' : ''}"${f.name}":`))
const FIELD_VALUES = EVENTS.map((e) => e.fields.map((f) => jsonValue[f.type]))

/**
 * The stream's JSON for one event, built as text (the hot path of every batch):
 * `{"seq","ts","event","comm","pid","fields":{…}}` with pointers as printk prints them.
 */
export function eventJson(ev: RingEvent): string {
  const keys = FIELD_KEYS[ev.id]
  const values = FIELD_VALUES[ev.id]
  let s = `{"seq":${ev.seq},"ts":${ev.ts}${EVENT_KEYS[ev.id]}${JSON.stringify(ev.comm)},"pid":${ev.pid},"fields":{`
  for (let k = 0; k < keys.length; k++) s += keys[k] + values[k](ev.args[k])
  return `${s}}}`
}
