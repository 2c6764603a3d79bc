/**
 * The one ring buffer every consumer reads from: the websocket subscribers and trace_pipe.
 *
 * Each recorded event gets a sequence number (1, 2, …) within the ring's epoch, a random id
 * chosen when the ring is made: a position `{epoch, seq}` names one event for as long as the
 * process lives. The ring keeps the newest `capacity` events; older ones are overwritten.
 *
 * Events are stored in columns (typed arrays) rather than as objects, so that a full ring is
 * a fixed allocation the garbage collector never has to trace, whatever the event rate.
 */
import { randomBytes } from 'node:crypto'
import { EVENTS, type TraceArg, type TraceEvent } from '../kernel/trace.ts'

/** Most fields any declared event has. */
export const MAX_FIELDS = Math.max(...EVENTS.map((e) => e.fields.length))

/** Events with a string field keep their argument array; the others are stored as numbers. */
const HAS_STRING = EVENTS.map((e) => e.fields.some((f) => f.type === 'str'))

/** Bytes one slot takes: ts, pid, owner, id, the numeric fields and two references. */
export const SLOT_BYTES = 8 + 4 + 4 + 1 + 8 * MAX_FIELDS + 2 * 8

/** An event read back from the ring, with the pid of the process its mm belongs to. */
export interface RingEvent extends TraceEvent {
  seq: number
  ts: number
  pid: number
  comm: string
  id: number
  args: TraceArg[]
  /** For events about an mm, the pid owning it; otherwise the event's pid. */
  owner: number
}

/** A RingEvent to fill with `load()`, so that reading many events allocates nothing. */
export function scratchEvent(): RingEvent {
  return { seq: 0, ts: 0, pid: 0, comm: '', id: 0, args: [], owner: 0 }
}

export class EventRing {
  readonly epoch = randomBytes(8).toString('hex')
  /** Seq of the newest event; 0 before the first. */
  last = 0
  private cap: number
  private tss!: Float64Array
  private pids!: Int32Array
  private owners!: Int32Array
  private ids!: Uint8Array
  private nums!: Float64Array
  private comms!: string[]
  private strs!: (readonly TraceArg[] | undefined)[]

  constructor(capacity: number) {
    this.cap = checkCapacity(capacity)
    this.allocate()
  }

  get capacity(): number {
    return this.cap
  }

  /** Seq of the oldest event still held (last + 1 when the ring is empty). */
  get first(): number {
    return Math.max(1, this.last - this.cap + 1)
  }

  /** Records one event; returns its seq. */
  push(ev: TraceEvent): number {
    const seq = ++this.last
    const i = seq % this.cap
    this.tss[i] = ev.ts
    this.pids[i] = ev.pid
    this.owners[i] = ev.owner ?? ev.pid
    this.ids[i] = ev.id
    this.comms[i] = ev.comm
    if (HAS_STRING[ev.id]) this.strs[i] = ev.args
    else {
      this.strs[i] = undefined
      const base = i * MAX_FIELDS
      const args = ev.args
      for (let k = 0; k < args.length; k++) this.nums[base + k] = args[k] as number
    }
    return seq
  }

  /** Event id at `seq` (which must be held). */
  id(seq: number): number {
    return this.ids[seq % this.cap]
  }

  pid(seq: number): number {
    return this.pids[seq % this.cap]
  }

  owner(seq: number): number {
    return this.owners[seq % this.cap]
  }

  /** Virtual timestamp (µs) at `seq`. */
  ts(seq: number): number {
    return this.tss[seq % this.cap]
  }

  /** Fills `out` with the event at `seq` (which must be held) and returns it. */
  load(seq: number, out: RingEvent): RingEvent {
    const i = seq % this.cap
    const id = this.ids[i]
    out.seq = seq
    out.ts = this.tss[i]
    out.pid = this.pids[i]
    out.comm = this.comms[i]
    out.id = id
    out.owner = this.owners[i]
    const args = out.args
    const strs = this.strs[i]
    const n = EVENTS[id].fields.length
    args.length = n
    if (strs) for (let k = 0; k < n; k++) args[k] = strs[k]
    else for (let k = 0, base = i * MAX_FIELDS; k < n; k++) args[k] = this.nums[base + k]
    return out
  }

  /** A copy of the event at `seq`, or undefined when it is not (or no longer) held. */
  get(seq: number): RingEvent | undefined {
    if (seq < this.first || seq > this.last) return undefined
    return this.load(seq, scratchEvent())
  }

  /**
   * Changes the capacity, keeping the newest events that fit (as ftrace keeps data across a
   * buffer_size_kb write where it can).
   */
  resize(capacity: number): void {
    const cap = checkCapacity(capacity)
    if (cap === this.cap) return
    const old = {
      cap: this.cap,
      tss: this.tss,
      pids: this.pids,
      owners: this.owners,
      ids: this.ids,
      nums: this.nums,
      comms: this.comms,
      strs: this.strs,
    }
    const from = Math.max(this.first, this.last - cap + 1)
    this.cap = cap
    this.allocate()
    for (let seq = from; seq <= this.last; seq++) {
      const o = seq % old.cap
      const i = seq % cap
      this.tss[i] = old.tss[o]
      this.pids[i] = old.pids[o]
      this.owners[i] = old.owners[o]
      this.ids[i] = old.ids[o]
      this.comms[i] = old.comms[o]
      this.strs[i] = old.strs[o]
      this.nums.set(old.nums.subarray(o * MAX_FIELDS, (o + 1) * MAX_FIELDS), i * MAX_FIELDS)
    }
  }

  private allocate(): void {
    const cap = this.cap
    this.tss = new Float64Array(cap)
    this.pids = new Int32Array(cap)
    this.owners = new Int32Array(cap)
    this.ids = new Uint8Array(cap)
    this.nums = new Float64Array(cap * MAX_FIELDS)
    this.comms = new Array<string>(cap).fill('')
    this.strs = new Array<readonly TraceArg[] | undefined>(cap).fill(undefined)
  }
}

/** Largest ring: 2^22 events (about 340 MB). */
export const MAX_CAPACITY = 1 << 22

function checkCapacity(capacity: number): number {
  if (!Number.isInteger(capacity) || capacity < 1 || capacity > MAX_CAPACITY) {
    throw new RangeError(`ring capacity must be an integer in [1, ${MAX_CAPACITY}]`)
  }
  return capacity
}
