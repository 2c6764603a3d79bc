/**
 * The two renderings of an event, both derived from the declarations in kernel/trace.ts:
 * the ftrace line trace_pipe prints and the JSON object the websocket stream sends.
 */
import { EVENTS, type FieldType, formatEvent, type TraceEvent } from '../kernel/trace.ts'
import { ByteWriter } from './bytes.ts'
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

const ascii = (s: string) => Buffer.from(s, 'latin1')

const writeValue: Record<FieldType, (w: ByteWriter, v: number | string) => void> = {
  ptr: (w, v) => w.pointer(v as number),
  long: (w, v) => w.number(v as number),
  ulong: (w, v) => w.number(v as number),
  int: (w, v) => w.number(v as number),
  uint: (w, v) => w.number(v as number),
  str: (w, v) => w.string(v as string),
}

const SEQ = ascii('{"seq":')
const TS = ascii(',"ts":')
const EVENT_KEYS = FULL_NAMES.map((n) => ascii(`,"event":"${n}","comm":`))
const PID = ascii(',"pid":')
const FIELDS = ascii(',"fields":{')
const FIELD_KEYS = EVENTS.map((e) => e.fields.map((f, k) => ascii(`${k ? ',' : ''}"${f.name}":`)))
const FIELD_WRITERS = EVENTS.map((e) => e.fields.map((f) => writeValue[f.type]))
const END = ascii('}}')

/**
 * Per event: the bytes from `,"event"` to `"fields":{` for the comm and pid it was last
 * written with. Each kind of event nearly always comes from one thread (kscand's scans,
 * kmigrated's migrations), so this is one copy instead of five writes.
 */
const middles = EVENTS.map(() => ({ comm: '', pid: -1, bytes: new Uint8Array(0) }))
const scratchWriter = new ByteWriter(256)

function middle(ev: RingEvent): Uint8Array {
  const m = middles[ev.id]
  if (m.pid !== ev.pid || m.comm !== ev.comm) {
    const w = scratchWriter
    w.reset()
    w.bytes(EVENT_KEYS[ev.id])
    w.string(ev.comm)
    w.bytes(PID)
    w.number(ev.pid)
    w.bytes(FIELDS)
    m.comm = ev.comm
    m.pid = ev.pid
    m.bytes = Uint8Array.from(w.buf.subarray(0, w.pos))
  }
  return m.bytes
}

/**
 * The stream's JSON for one event, written as bytes (the hot path of every batch):
 * `{"seq","ts","event","comm","pid","fields":{…}}` with pointers as printk prints them.
 */
export function writeEventJson(w: ByteWriter, ev: RingEvent): void {
  const keys = FIELD_KEYS[ev.id]
  const writers = FIELD_WRITERS[ev.id]
  w.bytes(SEQ)
  w.number(ev.seq)
  w.bytes(TS)
  w.number(ev.ts)
  w.bytes(middle(ev))
  for (let k = 0; k < keys.length; k++) {
    w.bytes(keys[k])
    writers[k](w, ev.args[k])
  }
  w.bytes(END)
}
