/**
 * Tracepoints, declared once. Each declaration carries the trace system, the fields with
 * their C types and the exact TP_printk format (docs/spec/kscand-v3.md §5 for the kmem events).
 * The event stream, trace_pipe formatting and the AsyncAPI document are all derived from
 * this table; the simulated kernel emits events by index into it.
 */

export type FieldType = 'ptr' | 'long' | 'ulong' | 'int' | 'uint' | 'str'

export interface FieldDecl {
  readonly name: string
  readonly type: FieldType
  readonly doc: string
}

export interface EventDecl {
  readonly system: string
  readonly name: string
  readonly doc: string
  readonly fields: readonly FieldDecl[]
  /** printf-style format, as in TP_printk (%p, %ld, %lu, %lX, %d, %u, %s). */
  readonly fmt: string
}

const mm: FieldDecl = { name: 'mm', type: 'ptr', doc: 'the mm_struct, as a hashed pointer' }
const comm: FieldDecl = { name: 'comm', type: 'str', doc: 'thread name' }
const pid: FieldDecl = { name: 'pid', type: 'int', doc: 'thread pid' }

export const EVENTS = [
  {
    system: 'kmem',
    name: 'kmem_mm_enter',
    doc: 'An mm was registered with kscand (fork or exec), docs/spec/kscand-v3.md §7.2.',
    fields: [mm],
    fmt: 'mm = %p',
  },
  {
    system: 'kmem',
    name: 'kmem_mm_exit',
    doc: 'An mm left kscand (last user gone), docs/spec/kscand-v3.md §7.2.',
    fields: [mm],
    fmt: 'mm = %p',
  },
  {
    system: 'kmem',
    name: 'kmem_scan_mm_start',
    doc: 'kscand visits an mm; fires before the next_scan check, so also for visits that are not due (docs/spec/kscand-v3.md §7.4 step 4).',
    fields: [mm],
    fmt: 'mm = %p',
  },
  {
    system: 'kmem',
    name: 'kmem_scan_mm_end',
    doc: 'kscand finished a scan of an mm: resume address, slow-tier hot pages of this scan, the scan_period/scan_size used for it and the new target node (docs/spec/kscand-v3.md §7.4 step 10).',
    fields: [
      mm,
      { name: 'start', type: 'ulong', doc: 'resume address for the next scan' },
      { name: 'total', type: 'ulong', doc: 'slow-tier pages judged hot in this scan' },
      { name: 'scan_period', type: 'ulong', doc: 'scan period used for this scan (ms)' },
      { name: 'scan_size', type: 'ulong', doc: 'scan size used for this scan (bytes)' },
      { name: 'target_node', type: 'int', doc: 'promotion node chosen by the heuristic' },
    ],
    fmt: 'mm=%p, start = %ld, total = %ld, scan_period = %ld, scan_size = %ld node = %d',
  },
  {
    system: 'kmem',
    name: 'kmem_scan_mm_migrate',
    doc: 'kmigrated tried to promote one folio (docs/spec/kscand-v3.md §7.9): rc is the kmigrated_promote_folio() result.',
    fields: [
      mm,
      {
        name: 'rc',
        type: 'int',
        doc: 'kmigrated_promote_folio() return code (docs/spec/kscand-v3.md §7.10)',
      },
      { name: 'target_node', type: 'int', doc: 'destination node' },
      { name: 'msuccess', type: 'int', doc: 'successes in the current 1024-attempt window' },
      { name: 'mfailed', type: 'int', doc: 'failures in the current 1024-attempt window' },
    ],
    fmt: 'mm = %p rc = %d node = %d msuccess = %d mfailed = %d ',
  },
  {
    system: 'sched',
    name: 'sched_skip_vma_numa',
    doc: 'task_numa_work() skipped a VMA, in the task it scans for (docs/numa-balancing.md §3): reason unsuitable, shared_ro, inaccessible, scan_delay, pid_inactive, ignore_pid_inactive (scanned after all: a half-scanned VMA) or seq_completed.',
    fields: [
      { name: 'numa_scan_offset', type: 'ulong', doc: 'mm->numa_scan_offset' },
      { name: 'vm_start', type: 'ulong', doc: 'first address of the VMA' },
      { name: 'vm_end', type: 'ulong', doc: 'end address of the VMA' },
      { name: 'reason', type: 'str', doc: 'enum numa_vmaskip_reason, printed symbolically' },
    ],
    fmt: 'numa_scan_offset=%lX vm_start=%lX vm_end=%lX reason=%s',
  },
  {
    system: 'migrate',
    name: 'mm_migrate_pages',
    doc: 'migrate_pages() finished a call; emitted for the NUMA hint-fault migrations, which move one folio per call (docs/numa-balancing.md §4).',
    fields: [
      { name: 'nr_succeeded', type: 'ulong', doc: 'folios migrated' },
      { name: 'nr_failed', type: 'ulong', doc: 'folios that could not be migrated' },
      { name: 'thp_succeeded', type: 'ulong', doc: 'THPs migrated' },
      { name: 'thp_failed', type: 'ulong', doc: 'THPs not migrated' },
      { name: 'thp_split', type: 'ulong', doc: 'THPs split' },
      { name: 'large_folio_split', type: 'ulong', doc: 'large folios split' },
      { name: 'mode', type: 'str', doc: 'enum migrate_mode, printed symbolically' },
      { name: 'reason', type: 'str', doc: 'enum migrate_reason, printed symbolically' },
    ],
    fmt: 'nr_succeeded=%lu nr_failed=%lu thp_succeeded=%lu thp_failed=%lu thp_split=%lu large_folio_split=%lu mode=%s reason=%s',
  },
  {
    system: 'kthread',
    name: 'kthread_start',
    doc: 'A kernel thread was started (kthread_run).',
    fields: [comm, pid],
    fmt: 'comm=%s pid=%d',
  },
  {
    system: 'kthread',
    name: 'kthread_stop',
    doc: 'A kernel thread returned after kthread_stop().',
    fields: [comm, pid],
    fmt: 'comm=%s pid=%d',
  },
  {
    system: 'kthread',
    name: 'kthread_sleep',
    doc: 'A kernel thread went to sleep; timeout 0 means until woken.',
    fields: [comm, pid, { name: 'timeout', type: 'uint', doc: 'sleep bound in ms (0: none)' }],
    fmt: 'comm=%s pid=%d timeout=%u',
  },
  {
    system: 'kthread',
    name: 'kthread_wake',
    doc: 'A sleeping kernel thread runs again.',
    fields: [comm, pid, { name: 'reason', type: 'str', doc: 'timeout, wake_up or stop' }],
    fmt: 'comm=%s pid=%d reason=%s',
  },
  {
    system: 'kthread',
    name: 'kthread_pause',
    doc: 'kscand parks because scan_enabled is 0 (docs/spec/kscand-v3.md §3); it resumes when re-enabled.',
    fields: [comm, pid],
    fmt: 'comm=%s pid=%d',
  },
  {
    system: 'sysfs',
    name: 'sysfs_write',
    doc: 'An accepted write to a simulated sysfs file (or another state-changing command).',
    fields: [
      { name: 'path', type: 'str', doc: 'file or resource written' },
      { name: 'old', type: 'str', doc: 'value before' },
      { name: 'new', type: 'str', doc: 'value after' },
    ],
    fmt: 'path=%s old=%s new=%s',
  },
] as const satisfies readonly EventDecl[]

export type EventName = (typeof EVENTS)[number]['name']

/** Event index by name: EV.kmem_scan_mm_end etc. */
export const EV = Object.fromEntries(EVENTS.map((e, i) => [e.name, i])) as {
  readonly [K in EventName]: number
}

export type TraceArg = number | string

/** One emitted event. `ts` is virtual time in microseconds. */
export interface TraceEvent {
  readonly ts: number
  /** The task that emitted it (the ftrace context columns). */
  readonly pid: number
  readonly comm: string
  readonly id: number
  readonly args: readonly TraceArg[]
  /**
   * The process an event about an mm belongs to (the mm's owner, known where it is emitted:
   * kscand scanning it, kmigrated draining it); undefined when that is the emitting task.
   */
  readonly owner?: number
}

export type TraceSink = (event: TraceEvent) => void

/** The kernel printk rendering of a %p argument: the hashed 32-bit id, zero-padded to 64 bits. */
export function formatPointer(hashed: number): string {
  return (hashed >>> 0).toString(16).padStart(16, '0')
}

/** Renders the TP_printk text of an event. */
export function formatEvent(ev: TraceEvent): string {
  const decl = EVENTS[ev.id] as EventDecl
  let i = 0
  return decl.fmt.replace(/%(p|ld|lu|lX|d|u|s)/g, (_m, conv: string) => {
    const v = ev.args[i++]
    if (conv === 'p') return formatPointer(v as number)
    return conv === 'lX' ? (v as number).toString(16).toUpperCase() : String(v)
  })
}

/** A mask selecting every declared event. */
export function allEvents(): Uint8Array {
  return new Uint8Array(EVENTS.length).fill(1)
}

interface Consumer {
  readonly sink: TraceSink
  readonly mask: Uint8Array
}

/**
 * The kernel side of tracing. Every event is off at boot; an event is generated only while
 * some consumer selects it (tracefs's enable files, a stream subscription, a test's capture):
 * call sites test `enabled(id)` before building arguments, so an event nobody selects costs
 * nothing. Each consumer receives only the events its own mask selects, so what one consumer
 * sees does not depend on what the others asked for.
 */
export class Tracer {
  /** The enabled mask: the union of the consumers' masks (update() recomputes it). */
  readonly on = new Uint8Array(EVENTS.length)
  private consumers: Consumer[] = []

  /** True when some consumer selects the event. */
  enabled(id: number): boolean {
    return this.on[id] === 1
  }

  emit(ts: number, pid: number, comm: string, id: number, args: TraceArg[], owner?: number): void {
    const ev: TraceEvent = { ts, pid, comm, id, args, owner }
    for (const c of this.consumers) if (c.mask[id] === 1) c.sink(ev)
  }

  /**
   * Adds a consumer of the events `mask` selects (1 at their ids). The consumer may change
   * its mask in place later and then call update(). Returns the unsubscribe function.
   */
  subscribe(sink: TraceSink, mask: Uint8Array = allEvents()): () => void {
    const c: Consumer = { sink, mask }
    this.consumers = [...this.consumers, c]
    this.update()
    return () => {
      this.consumers = this.consumers.filter((x) => x !== c)
      this.update()
    }
  }

  /** Recomputes the enabled mask after a consumer changed its mask. */
  update(): void {
    this.on.fill(0)
    for (const c of this.consumers) for (let i = 0; i < c.mask.length; i++) this.on[i] |= c.mask[i]
  }
}
