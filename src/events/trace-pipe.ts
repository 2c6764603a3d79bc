/**
 * trace_pipe: readers that consume the ring from one shared position, as the kernel's do
 * (an event one reader got, no other reader sees), with `[LOST N EVENTS]` for what the ring
 * overwrote before anyone read it, and the figures of per_cpu/cpu0/stats.
 */
import { Readable } from 'node:stream'
import { lostLine, traceLine } from './format.ts'
import { type EventRing, scratchEvent } from './ring.ts'

/** trace_pipe lines per chunk pushed to a reader, and per pass over the readers. */
const PIPE_CHUNK = 2048
const PIPE_PASS = 65536

/** The ring as trace_pipe sees it (per_cpu/cpu0/stats, trace's header). */
export interface PipeStats {
  /** Events written and not yet consumed. */
  readonly entries: number
  /** Events overwritten before they were read. */
  readonly overrun: number
  readonly oldestUs: number
  readonly readEvents: number
}

interface PipeReader {
  readonly stream: Readable
  wants: boolean
}

export class TracePipe {
  private readonly readers: PipeReader[] = []
  private readonly scratch = scratchEvent()
  private pipeSeen = 0
  private pipeLost = 0
  private overrun = 0
  private readEvents = 0

  constructor(
    private readonly ring: EventRing,
    /** Asks for a feed() soon: a reader wants more, or a pass ran out of budget. */
    private readonly flushSoon: () => void,
  ) {}

  /** A reader of trace_pipe: a stream of ftrace lines that consumes from the shared position. */
  open(): Readable {
    const reader: PipeReader = {
      wants: false,
      stream: new Readable({
        highWaterMark: 64 * 1024,
        read: () => {
          reader.wants = true
          this.flushSoon()
        },
      }),
    }
    reader.stream.on('close', () => {
      const i = this.readers.indexOf(reader)
      if (i >= 0) this.readers.splice(i, 1)
    })
    this.readers.push(reader)
    return reader.stream
  }

  /** Open trace_pipe readers. */
  get size(): number {
    return this.readers.length
  }

  /** Counts events the ring overwrote before trace_pipe consumed them. */
  sync(): void {
    const first = this.ring.first
    if (this.pipeSeen < first - 1) {
      const n = first - 1 - this.pipeSeen
      this.overrun += n
      this.pipeLost += n
      this.pipeSeen = first - 1
    }
  }

  feed(): void {
    if (this.readers.length === 0) return
    this.sync()
    let budget = PIPE_PASS
    // Whoever is ready reads next; events one reader consumed, no other reader sees.
    for (let n = this.readers.length; n > 0 && budget > 0; n--) {
      const r = this.readers[0]
      this.readers.push(this.readers.shift() as PipeReader)
      while (r.wants && budget > 0 && (this.pipeSeen < this.ring.last || this.pipeLost > 0)) {
        let text = ''
        if (this.pipeLost > 0) {
          text = `${lostLine(this.pipeLost)}\n`
          this.pipeLost = 0
        }
        const to = Math.min(this.ring.last, this.pipeSeen + PIPE_CHUNK)
        for (let seq = this.pipeSeen + 1; seq <= to; seq++) {
          text += `${traceLine(this.ring.load(seq, this.scratch))}\n`
        }
        budget -= to - this.pipeSeen
        this.readEvents += to - this.pipeSeen
        this.pipeSeen = to
        r.wants = r.stream.push(text)
      }
    }
    if (budget <= 0) this.flushSoon()
  }

  /** The unconsumed events as trace lines, consuming nothing (the `trace` file). */
  peek(): string[] {
    this.sync()
    const lines: string[] = []
    for (let seq = this.pipeSeen + 1; seq <= this.ring.last; seq++) {
      lines.push(traceLine(this.ring.load(seq, this.scratch)))
    }
    return lines
  }

  /** Forgets every event and count, as a reset of the ring buffer does. */
  clear(): void {
    this.pipeSeen = this.ring.last
    this.pipeLost = 0
    this.overrun = 0
    this.readEvents = 0
  }

  /** The ring as trace_pipe sees it, for per_cpu/cpu0/stats. */
  stats(): PipeStats {
    this.sync()
    const entries = this.ring.last - this.pipeSeen
    return {
      entries,
      overrun: this.overrun,
      oldestUs: entries > 0 ? this.ring.ts(this.pipeSeen + 1) : 0,
      readEvents: this.readEvents,
    }
  }

  /** Ends every read (the server is closing). */
  end(): void {
    for (const r of this.readers.splice(0)) r.stream.push(null)
  }
}
