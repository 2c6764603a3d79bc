/**
 * A run's trace: the selected events as trace_pipe prints them (trace.txt) or as the event
 * stream's JSON objects, one a line (trace.jsonl), written as the kernel emits them. The
 * file is a consumer of the selected events only: the others, nobody else selecting them,
 * the kernel does not build at all.
 */
import { closeSync, openSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { ByteWriter } from '../events/bytes.ts'
import { FULL_NAMES, traceLine, writeEventJson } from '../events/format.ts'
import type { RingEvent } from '../events/ring.ts'
import type { Kernel } from '../kernel/kernel.ts'
import type { TraceEvent } from '../kernel/trace.ts'
import type { Scenario } from '../schemas/scenario.ts'

type TraceSpec = NonNullable<Scenario['record']['trace']>

/** Bytes buffered before a write to the file. */
const FLUSH_AT = 1 << 16

export const traceFileName = (t: TraceSpec) => (t.format === 'json' ? 'trace.jsonl' : 'trace.txt')

export class TraceFile {
  private readonly fd: number
  private readonly w = new ByteWriter(FLUSH_AT * 2)
  private readonly unsubscribe: () => void
  private seq = 0
  readonly path: string

  constructor(kernel: Kernel, spec: TraceSpec, dir: string) {
    const keep = new Set(spec.events ?? FULL_NAMES)
    const mask = Uint8Array.from(FULL_NAMES, (name) => (keep.has(name) ? 1 : 0))
    this.path = join(dir, traceFileName(spec))
    this.fd = openSync(this.path, 'w')
    const sink =
      spec.format === 'json'
        ? (ev: TraceEvent) => {
            const e: RingEvent = { ...ev, seq: ++this.seq, args: [...ev.args], owner: 0 }
            writeEventJson(this.w, e)
            this.w.byte(0x0a)
            this.maybeFlush()
          }
        : (ev: TraceEvent) => {
            this.w.utf8(traceLine(ev))
            this.w.byte(0x0a)
            this.maybeFlush()
          }
    this.unsubscribe = kernel.tracer.subscribe(sink, mask)
  }

  private maybeFlush(): void {
    if (this.w.pos >= FLUSH_AT) this.flush()
  }

  private flush(): void {
    let off = 0
    while (off < this.w.pos) off += writeSync(this.fd, this.w.buf, off, this.w.pos - off)
    this.w.reset()
  }

  close(): void {
    this.unsubscribe()
    this.flush()
    closeSync(this.fd)
  }
}
