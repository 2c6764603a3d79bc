/**
 * NUMA balancing (kernel.numa_balancing, modes 0–3; docs/numa-balancing.md): the upstream
 * promoter kscand is measured against. Everything runs in the context of the process it
 * serves, as in the kernel:
 * - task_tick_numa() → task_numa_work(): the task scans a window of its own address space
 *   and makes PTEs PROT_NONE (change_prot_numa), stamping slow-tier pages with the scan time
 *   in tiering mode (docs/numa-balancing.md §3);
 * - do_numa_page(): the next access of a PROT_NONE page is a hint fault in the same task,
 *   which decides (should_numa_migrate_memory, docs/numa-balancing.md §4–§6) and migrates the
 *   folio synchronously.
 *
 * Accesses stay a Poisson process per page (docs/simulation.md): when a PTE is marked, the
 * time of the first access after the marking is drawn once (the lazy shortcut,
 * docs/numa-balancing.md §4) and queued; the task takes its faults in time order. Each
 * process has one task, a scheduler entity like a kthread (its work is CPU time charged to it),
 * which does not emit the kthread_* tracepoints.
 */
import { nextAccessAfter } from './access.ts'
import { PAGE_SHIFT, PAGE_SIZE } from './constants.ts'
import type { KthreadContext } from './context.ts'
import { einval } from './errors.ts'
import { type MmStruct, type Process, PTE_PROTNONE, type Vma } from './mm.ts'
import { changePteRange } from './pte-walk.ts'
import { NEVER } from './rate.ts'
import { HOST_YIELD, type Kthread, RESCHED, type Wait, WaitQueue } from './sched.ts'
import { EV } from './trace.ts'
import { VM } from './vmstat.ts'

// ---- constants (docs/numa-balancing.md §1) ---------------------------------------------

export const NUMA_BALANCING_DISABLED = 0
export const NUMA_BALANCING_NORMAL = 1
export const NUMA_BALANCING_MEMORY_TIERING = 2
/** proc_dointvec_minmax range of kernel.numa_balancing: extra2 = SYSCTL_FOUR. */
export const NUMA_BALANCING_MAX = 4
export const SCAN_PERIOD_MIN_MS = 1000
export const SCAN_PERIOD_MAX_MS = 60000
export const SCAN_SIZE_MB = 256
export const HOT_THRESHOLD_MS = 1000
export const PROMOTE_RATE_LIMIT_MBPS = 65536
/** MB/s cap on scanning: the per-window period never drops below 1000 / (2560 / scan_size). */
export const MAX_SCAN_WINDOW = 2560
export const NUMA_PERIOD_SLOTS = 10
export const NUMA_PERIOD_THRESHOLD = 7
export const NUMA_MIGRATION_ADJUST_STEPS = 16
/** LAST_CPUPID_SHIFT = 8 + NR_CPUS_BITS (13 for CONFIG_NR_CPUS = 8192): 21 bits. */
export const LAST_CPUPID_SHIFT = 21
export const LAST_CPUPID_MASK = (1 << LAST_CPUPID_SHIFT) - 1
/** -1 & LAST_CPUPID_MASK: "no cpupid", what a migrated or new folio holds. */
export const LAST_CPUPID_NONE = LAST_CPUPID_MASK
/** LAST__PID_SHIFT: the pid's low 8 bits sit below the cpu. */
const LAST_PID_SHIFT = 8
const LAST_PID_MASK = (1 << LAST_PID_SHIFT) - 1
/** 12 − LAST_CPUPID_SHIFT is negative, so the access time is kept at full ms resolution. */
export const PAGE_ACCESS_TIME_BUCKETS = 0
/** Free-space override floor: 1 GiB in pages. */
const FREE_SPACE_MIN_PAGES = (1024 * 1024 * 1024) >> PAGE_SHIFT
const HPAGE_SIZE = 2 * 1024 * 1024
/** node_stamp += 2 * TICK_NSEC after a scan starts; HZ = 1000. */
const TICK_NS = 1_000_000
/** task_numa_work may use 1/32 of the task's run time. */
const SCAN_RUNTIME_FACTOR = 32
/** PTEs changed between two cond_resched() points of change_prot_numa. */
const PROT_CHUNK = 1 << 12

// task_numa_fault() flags
export const TNF_MIGRATED = 0x01
export const TNF_FAULT_LOCAL = 0x08
export const TNF_MIGRATE_FAIL = 0x10

/** enum numa_vmaskip_reason, in the order of include/trace/events/sched.h. */
const NUMAB_SKIP_REASONS = [
  'unsuitable',
  'shared_ro',
  'inaccessible',
  'scan_delay',
  'pid_inactive',
  'ignore_pid_inactive',
  'seq_completed',
] as const
type SkipReason = (typeof NUMAB_SKIP_REASONS)[number]

/**
 * Derived behaviours of the v6.16 code that change what users see
 * (docs/numa-balancing.md §11), switchable at run time; `true` is the kernel's behaviour.
 */
export interface NumabQuirks {
  /** A PTE already PROT_NONE is skipped by the scan and keeps the time of its first marking. */
  protnone_keeps_first_time: boolean
  /** The hint-fault latency is masked to LAST_CPUPID_MASK, so a very old time wraps and looks hot. */
  access_time_wraps: boolean
  /** Tiering mode: no local or shared fault ever counts, so each pass doubles the scan period. */
  scan_period_doubling: boolean
  /** The 60-s adjustment raises the threshold whenever candidates stay under 90 % of the limit. */
  threshold_creep: boolean
}

export const NUMAB_QUIRK_NAMES = [
  'protnone_keeps_first_time',
  'access_time_wraps',
  'scan_period_doubling',
  'threshold_creep',
] as const satisfies readonly (keyof NumabQuirks)[]

// ---- the arithmetic, as pure functions ---------------------------------------------------

/** round_up(x, y) of include/linux/math.h (a power-of-two mask trick, kept literally). */
function roundUp(x: number, y: number): number {
  return Number(((BigInt(x) - 1n) | (BigInt(y) - 1n)) + 1n)
}

/** task_nr_scan_windows(): RSS in scan windows, at least 1. */
export function taskNrScanWindows(rssPages: number, scanSizeMb: number): number {
  const nr = scanSizeMb * 2 ** (20 - PAGE_SHIFT)
  const rss = rssPages || nr
  return Math.floor(roundUp(rss, nr) / nr)
}

/** task_scan_min(): the shortest per-window period (ms). */
export function taskScanMin(rssPages: number, k: ScanKnobs): number {
  const windows =
    k.scan_size_mb < MAX_SCAN_WINDOW ? Math.floor(MAX_SCAN_WINDOW / k.scan_size_mb) : 1
  const floor = Math.floor(1000 / windows)
  const scan = Math.floor(k.scan_period_min_ms / taskNrScanWindows(rssPages, k.scan_size_mb))
  return Math.max(floor, scan)
}

/** task_scan_max() of a task without a numa_group. */
export function taskScanMax(rssPages: number, k: ScanKnobs): number {
  const smin = taskScanMin(rssPages, k)
  const smax = Math.floor(k.scan_period_max_ms / taskNrScanWindows(rssPages, k.scan_size_mb))
  return Math.max(smin, smax)
}

export interface ScanKnobs {
  scan_period_min_ms: number
  scan_period_max_ms: number
  scan_size_mb: number
}

/**
 * update_task_scan_period(): the new numa_scan_period, and whether mm->numa_next_scan is
 * pushed out (the doubling branch does that and keeps locality[]).
 */
export function updateTaskScanPeriod(
  period: number,
  periodMax: number,
  scanMin: number,
  scanMax: number,
  locality: readonly [number, number, number],
  shared: number,
  priv: number,
  doubling = true,
): { period: number; doubled: boolean } {
  const [remote, local, failed] = locality
  if (local + shared === 0 || failed) {
    return doubling
      ? { period: Math.min(periodMax, period * 2), doubled: true }
      : { period, doubled: false }
  }
  const slot = Math.ceil(period / NUMA_PERIOD_SLOTS)
  const lr = Math.floor((local * NUMA_PERIOD_SLOTS) / (local + remote))
  const ps = priv + shared > 0 ? Math.floor((priv * NUMA_PERIOD_SLOTS) / (priv + shared)) : 0
  let diff: number
  if (ps >= NUMA_PERIOD_THRESHOLD) diff = Math.max(ps - NUMA_PERIOD_THRESHOLD, 1) * slot
  else if (lr >= NUMA_PERIOD_THRESHOLD) diff = Math.max(lr - NUMA_PERIOD_THRESHOLD, 1) * slot
  else diff = -(NUMA_PERIOD_THRESHOLD - Math.max(lr, ps)) * slot
  return { period: Math.min(Math.max(period + diff, scanMin), scanMax), doubled: false }
}

/** Per-node promotion state (the nbp_* fields of pglist_data) and its node counters. */
export class PgdatNumab {
  nbp_rl_start = 0
  nbp_rl_nr_cand = 0
  nbp_threshold = 0
  nbp_th_start = 0
  nbp_th_nr_cand = 0
  /** Node stats PGPROMOTE_CANDIDATE / PGPROMOTE_SUCCESS of this (target) node. */
  pgpromote_candidate = 0
  pgpromote_success = 0
}

/** jiffies_to_msecs(jiffies) as the u32 the kernel keeps. */
export function nowMsU32(nowMs: number): number {
  return nowMs >>> 0
}

/**
 * The time folio_xchg_access_time() stores: jiffies_to_msecs() masked to LAST_CPUPID_MASK.
 * Without wraparound (`wraps` false) the whole u32 is kept.
 */
export function accessTime(nowMs: number, wraps = true): number {
  const now = nowMsU32(nowMs)
  return wraps ? (now >>> PAGE_ACCESS_TIME_BUCKETS) & LAST_CPUPID_MASK : now
}

/**
 * numa_hint_fault_latency(): ms since the time stored in _last_cpupid, and the new stored
 * value (the xchg). The difference is masked too, so a time older than the mask looks recent.
 */
export function numaHintFaultLatency(
  nowMs: number,
  last: number,
  wraps = true,
): { latency: number; stored: number } {
  const now = nowMsU32(nowMs)
  const stored = accessTime(nowMs, wraps)
  const lastMs = wraps ? last << PAGE_ACCESS_TIME_BUCKETS : last
  const latency = wraps
    ? (now - lastMs) & (LAST_CPUPID_MASK << PAGE_ACCESS_TIME_BUCKETS)
    : (now - lastMs) >>> 0
  return { latency, stored }
}

/** numa_promotion_rate_limit(): counts the candidate; true when the page is rate-limited. */
export function numaPromotionRateLimit(
  pgdat: PgdatNumab,
  rateLimit: number,
  nr: number,
  nowMs: number,
): boolean {
  pgdat.pgpromote_candidate += nr
  const nrCand = pgdat.pgpromote_candidate
  const now = nowMsU32(nowMs)
  const start = pgdat.nbp_rl_start
  if ((now - start) >>> 0 > 1000) {
    pgdat.nbp_rl_start = now
    pgdat.nbp_rl_nr_cand = nrCand
  }
  return nrCand - pgdat.nbp_rl_nr_cand >= rateLimit
}

/** numa_promotion_adjust_threshold(): every scan_period_max ms, one step of def_th·2/16. */
export function numaPromotionAdjustThreshold(
  pgdat: PgdatNumab,
  rateLimit: number,
  defTh: number,
  nowMs: number,
  periodMaxMs: number,
  creep = true,
): void {
  const now = nowMsU32(nowMs)
  const start = pgdat.nbp_th_start
  if ((now - start) >>> 0 <= periodMaxMs) return
  pgdat.nbp_th_start = now
  const refCand = Math.floor((rateLimit * periodMaxMs) / 1000)
  const nrCand = pgdat.pgpromote_candidate
  const diffCand = nrCand - pgdat.nbp_th_nr_cand
  const unit = Math.floor((defTh * 2) / NUMA_MIGRATION_ADJUST_STEPS)
  let th = pgdat.nbp_threshold || defTh
  if (diffCand > Math.floor((refCand * 11) / 10)) th = Math.max(th - unit, unit)
  else if (creep && diffCand < Math.floor((refCand * 9) / 10)) th = Math.min(th + unit, defTh * 2)
  pgdat.nbp_th_nr_cand = nrCand
  pgdat.nbp_threshold = th
}

// ---- per-mm, per-VMA and per-task state -------------------------------------------------

/** vma->numab_state */
export class VmaNumabState {
  start_scan_seq = 0
  prev_scan_seq = 0
  next_scan = 0
  pids_active_reset = 0
  /** pids_active[0] / [1]: one task per process, so one bit each (hash_32(pid, 6)). */
  pids_active0 = false
  pids_active1 = false
}

/**
 * What NUMA balancing adds to an mm, allocated at its first scan: the folio's _last_cpupid
 * (a time in tiering mode, else a cpupid) and the queue of pending hint faults.
 */
export class MmNumab {
  readonly last_cpupid: Uint32Array
  /** Time (absolute ms) of the pending hint fault of each PROT_NONE page; a stale queue entry differs. */
  readonly faultAt: Float64Array
  readonly vmaState: (VmaNumabState | null)[]
  private heapAt = new Float64Array(1024)
  private heapPage = new Uint32Array(1024)
  private n = 0

  constructor(mm: MmStruct) {
    this.last_cpupid = new Uint32Array(mm.nrPages).fill(LAST_CPUPID_NONE)
    this.faultAt = new Float64Array(mm.nrPages)
    this.vmaState = mm.vmas.map(() => null)
  }

  get pending(): number {
    return this.n
  }

  /** Time of the earliest queued fault, or Infinity. */
  peekAt(): number {
    return this.n > 0 ? this.heapAt[0] : Number.POSITIVE_INFINITY
  }

  peekPage(): number {
    return this.heapPage[0]
  }

  push(at: number, page: number): void {
    if (this.n === this.heapAt.length) {
      const a = new Float64Array(this.n * 2)
      const p = new Uint32Array(this.n * 2)
      a.set(this.heapAt)
      p.set(this.heapPage)
      this.heapAt = a
      this.heapPage = p
    }
    const A = this.heapAt
    const P = this.heapPage
    let i = this.n++
    while (i > 0) {
      const up = (i - 1) >> 1
      if (A[up] < at || (A[up] === at && P[up] < page)) break
      A[i] = A[up]
      P[i] = P[up]
      i = up
    }
    A[i] = at
    P[i] = page
  }

  pop(): void {
    const A = this.heapAt
    const P = this.heapPage
    const n = --this.n
    if (n === 0) return
    const at = A[n]
    const page = P[n]
    let i = 0
    for (;;) {
      let c = 2 * i + 1
      if (c >= n) break
      if (c + 1 < n && (A[c + 1] < A[c] || (A[c + 1] === A[c] && P[c + 1] < P[c]))) c++
      if (A[c] > at || (A[c] === at && P[c] > page)) break
      A[i] = A[c]
      P[i] = P[c]
      i = c
    }
    A[i] = at
    P[i] = page
  }
}

/** The NUMA-balancing fields of one task_struct (and of its mm, which it owns alone). */
export class NumaTask {
  readonly thread: Kthread
  readonly wait = new WaitQueue()
  kicked = false
  // mm->numa_*
  numa_next_scan = 0
  numa_scan_offset = 0
  mm_numa_scan_seq = 0
  // p->numa_*
  numa_scan_period: number
  numa_scan_period_max = 0
  /** CPU time (ns) after which the next scan may be queued. */
  node_stamp = 0
  numa_scan_seq = 0
  numa_migrate_retry = 0
  numa_preferred_nid = -1
  numa_pages_migrated = 0
  /** numa_faults_locality[]: remote, local, failed migrations. */
  readonly locality: [number, number, number] = [0, 0, 0]
  /** numa_faults[NUMA_MEM] and the NUMA_MEMBUF buffer: [node * 2 + priv]. */
  readonly faultsMem: Float64Array
  readonly faultsBuf: Float64Array
  numab: MmNumab | null = null
  /** CPU time charged for scanning and for hint faults with migrations (ns). */
  scan_ns = 0
  fault_ns = 0
  scans = 0
  /** Hint faults taken by the task (its share of vmstat numa_hint_faults). */
  hint_faults = 0

  constructor(
    readonly proc: Process,
    readonly cpu_node: number,
    nrNodes: number,
    body: (t: Kthread) => Generator<Wait, void, void>,
    k: KthreadContext,
  ) {
    this.numa_scan_period = k.numa_balancing_scan_delay_ms
    this.faultsMem = new Float64Array(nrNodes * 2)
    this.faultsBuf = new Float64Array(nrNodes * 2)
    this.thread = k.sched.kthread(proc.comm, proc.pid, body)
    this.thread.userTask = true
  }

  /** get_mm_rss(): every page is resident. */
  get rss(): number {
    return this.proc.mm.nrPages
  }
}

// ---- the subsystem ----------------------------------------------------------------------

export class NumaBalancing {
  /** sysctl_numa_balancing_mode */
  mode = NUMA_BALANCING_DISABLED
  promote_rate_limit_MBps = PROMOTE_RATE_LIMIT_MBPS
  hot_threshold_ms = HOT_THRESHOLD_MS
  scan_period_min_ms = SCAN_PERIOD_MIN_MS
  scan_period_max_ms = SCAN_PERIOD_MAX_MS
  scan_size_mb = SCAN_SIZE_MB
  readonly quirks: NumabQuirks = {
    protnone_keeps_first_time: true,
    access_time_wraps: true,
    scan_period_doubling: true,
    threshold_creep: true,
  }
  readonly pgdat: PgdatNumab[]
  private readonly tasks = new Map<Process, NumaTask>()
  private readonly byMm = new Map<MmStruct, NumaTask>()
  /** Pages change_pte_range() marked in one chunk. */
  private readonly marked = new Uint32Array(PROT_CHUNK)

  constructor(private readonly k: KthreadContext) {
    this.pgdat = k.machine.nodes.map(() => new PgdatNumab())
  }

  // ---- knobs --------------------------------------------------------------------------

  /** sysctl_numa_balancing(): 0–4 (proc_dointvec_minmax already range-checked). */
  store_mode(state: number): void {
    if (!Number.isInteger(state) || state < 0 || state > NUMA_BALANCING_MAX)
      throw einval(`numa_balancing takes 0 to ${NUMA_BALANCING_MAX}, got ${state}`)
    if (!(this.mode & NUMA_BALANCING_MEMORY_TIERING) && state & NUMA_BALANCING_MEMORY_TIERING)
      this.resetMemoryTiering()
    this.mode = state
    for (const task of this.tasks.values()) {
      if (state !== 0) this.k.sched.start(task.thread)
      this.kick(task)
    }
  }

  store_promote_rate_limit(mbps: number): void {
    if (!Number.isInteger(mbps) || mbps < 0)
      throw einval(`promote rate limit must be ≥ 0, got ${mbps}`)
    this.promote_rate_limit_MBps = mbps
  }

  /** reset_memory_tiering(): every pgdat's threshold state starts afresh. */
  private resetMemoryTiering(): void {
    const now = nowMsU32(this.k.sched.now)
    for (const p of this.pgdat) {
      p.nbp_threshold = 0
      p.nbp_th_nr_cand = p.pgpromote_candidate
      p.nbp_th_start = now
    }
  }

  /** MB_TO_PAGES(promote_rate_limit_MBps) */
  get rateLimitPages(): number {
    return this.promote_rate_limit_MBps * 2 ** (20 - PAGE_SHIFT)
  }

  /** The current hot threshold of a node: nbp_threshold, or hot_threshold_ms while unset. */
  threshold(nid: number): number {
    return this.pgdat[nid].nbp_threshold || this.hot_threshold_ms
  }

  task(proc: Process): NumaTask | undefined {
    return this.tasks.get(proc)
  }

  // ---- fork / exec / exit ---------------------------------------------------------------

  /**
   * init_numa_balancing() for the process's one task: an exec'd mm starts with
   * numa_next_scan = 0, numa_scan_period = scan_delay, node_stamp = 0. The task is scheduled
   * once NUMA balancing has been on; with it never on, nothing of it runs.
   */
  taskInit(proc: Process, cpu_node: number): void {
    const nrNodes = this.k.machine.nodes.length
    const task: NumaTask = new NumaTask(
      proc,
      cpu_node,
      nrNodes,
      (t): Generator<Wait, void, void> => this.main(t, task),
      this.k,
    )
    this.tasks.set(proc, task)
    this.byMm.set(proc.mm, task)
    if (this.mode !== 0) this.k.sched.start(task.thread)
  }

  taskExit(proc: Process): void {
    const task = this.tasks.get(proc)
    if (!task) return
    this.tasks.delete(proc)
    this.byMm.delete(proc.mm)
    this.k.sched.stop(task.thread)
  }

  /** folio_migrate_flags() across tiers (a kscand promotion or a demotion): _last_cpupid = -1. */
  folioMigrated(mm: MmStruct, page: number): void {
    const numab = this.byMm.get(mm)?.numab
    if (numab) numab.last_cpupid[page] = LAST_CPUPID_NONE
  }

  private kick(task: NumaTask): void {
    task.kicked = true
    this.k.sched.wake_up(task.wait)
  }

  // ---- the task -------------------------------------------------------------------------

  private *main(t: Kthread, task: NumaTask): Generator<Wait, void, void> {
    const { k } = this
    for (;;) {
      if (t.should_stop()) return
      yield* this.doHintFaults(t, task)
      if (t.should_stop()) return
      // task_tick_numa() at the jiffies the tick condition first holds.
      if (this.mode !== 0) {
        const cpu_ns = (k.sched.now - task.proc.started_at) * TICK_NS
        const period = task.numa_scan_period * TICK_NS
        if (cpu_ns > task.node_stamp + period) {
          if (task.node_stamp === 0) task.numa_scan_period = taskScanMin(task.rss, this)
          task.node_stamp += period
          if (k.sched.now >= task.numa_next_scan) yield* this.taskNumaWork(t, task)
        }
      }
      const next = this.nextEventAt(task)
      task.kicked = false
      yield {
        kind: 'wait',
        wq: task.wait,
        cond: () => t.should_stop() || task.kicked,
        timeout: Number.isFinite(next) ? Math.max(1, next - k.sched.now) : Number.POSITIVE_INFINITY,
      }
    }
  }

  /** The next jiffy the task has something to do: a hint fault or a tick that queues work. */
  private nextEventAt(task: NumaTask): number {
    let at = task.numab ? Math.ceil(task.numab.peekAt()) : Number.POSITIVE_INFINITY
    if (this.mode !== 0) {
      const tick =
        task.proc.started_at +
        Math.floor((task.node_stamp + task.numa_scan_period * TICK_NS) / TICK_NS) +
        1
      at = Math.min(at, tick)
    }
    return at
  }

  // ---- scanning (docs/numa-balancing.md §3) -----------------------------------------------

  /** task_numa_work() */
  private *taskNumaWork(t: Kthread, task: NumaTask): Generator<Wait, void, void> {
    const { k } = this
    const now = k.sched.now
    if (task.numa_next_scan === 0) task.numa_next_scan = now + k.numa_balancing_scan_delay_ms
    if (now < task.numa_next_scan) return
    task.numa_next_scan = now + task.numa_scan_period
    task.node_stamp += 2 * TICK_NS
    let pages = this.scan_size_mb * 2 ** (20 - PAGE_SHIFT)
    let virtpages = pages * 8
    if (!pages) return
    const cpuBefore = t.cpu_ns
    t.charge(k.costs.numabScanNs)
    task.scans++
    const mm = task.proc.mm
    task.numab ??= new MmNumab(mm)
    const numab = task.numab
    const vmas = mm.vmas
    let forced = false
    let skipped = false
    let start = 0
    let vi = 0
    let done = false
    retry: for (;;) {
      start = task.numa_scan_offset
      vi = mm.findVma(start)
      if (vi >= vmas.length) {
        this.resetPtenumaScan(task)
        start = 0
        vi = 0
      }
      for (; vi < vmas.length; vi++) {
        const vma = vmas[vi]
        const reason = this.vmaUnsuitable(task, vma)
        if (reason) {
          this.traceSkip(t, task, vma, reason)
          continue
        }
        let st = numab.vmaState[vi]
        if (!st) {
          st = new VmaNumabState()
          st.start_scan_seq = task.mm_numa_scan_seq
          st.next_scan = now + k.numa_balancing_scan_delay_ms
          st.pids_active_reset = st.next_scan + 4 * k.numa_balancing_scan_delay_ms
          st.prev_scan_seq = task.mm_numa_scan_seq - 1
          numab.vmaState[vi] = st
        }
        const seq = task.mm_numa_scan_seq
        if (seq && now < st.next_scan) {
          this.traceSkip(t, task, vma, 'scan_delay')
          continue
        }
        if (seq && now > st.pids_active_reset) {
          st.pids_active_reset += 4 * k.numa_balancing_scan_delay_ms
          st.pids_active0 = st.pids_active1
          st.pids_active1 = false
        }
        if (st.prev_scan_seq === seq) {
          task.numa_scan_offset = vma.end
          this.traceSkip(t, task, vma, 'seq_completed')
          continue
        }
        if (!forced && !this.vmaIsAccessed(t, task, vma, st)) {
          skipped = true
          this.traceSkip(t, task, vma, 'pid_inactive')
          continue
        }
        let end: number
        do {
          start = Math.max(start, vma.start)
          end = Math.min(Math.ceil((start + pages * PAGE_SIZE) / HPAGE_SIZE) * HPAGE_SIZE, vma.end)
          const n = yield* this.changeProtNuma(t, task, vma, start, end)
          const len = (end - start) / PAGE_SIZE
          if (n) pages -= len
          virtpages -= len
          start = end
          if (pages <= 0 || virtpages <= 0) {
            done = true
            break retry
          }
        } while (end !== vma.end)
        st.prev_scan_seq = seq
        if (forced) break retry
      }
      if (!forced && skipped) {
        forced = true
        continue
      }
      break
    }
    // out: the offset stays inside the VMA list, or the pass is complete.
    if (done || vi < vmas.length) task.numa_scan_offset = start
    else this.resetPtenumaScan(task)
    task.node_stamp += SCAN_RUNTIME_FACTOR * (t.cpu_ns - cpuBefore)
    task.scan_ns += t.cpu_ns - cpuBefore
  }

  /** reset_ptenuma_scan() */
  private resetPtenumaScan(task: NumaTask): void {
    task.mm_numa_scan_seq++
    task.numa_scan_offset = 0
  }

  /**
   * The VMA filters of task_numa_work(), in its order. vma_policy_mof() is true only under
   * the default (local) task policy: numactl's preferred, bind and interleave task policies
   * carry no MPOL_F_MOF.
   */
  private vmaUnsuitable(task: NumaTask, vma: Vma): SkipReason | null {
    const policy = task.proc.spec.policy?.mode ?? 'local'
    if (
      vma.kind === 'io' ||
      vma.mbind ||
      policy !== 'local' ||
      vma.kind === 'hugetlb' ||
      vma.kind === 'mixedmap'
    )
      return 'unsuitable'
    if (vma.kind === 'file_ro') return 'shared_ro'
    if (vma.kind === 'prot_none') return 'inaccessible'
    return null
  }

  /** vma_is_accessed() */
  private vmaIsAccessed(t: Kthread, task: NumaTask, vma: Vma, st: VmaNumabState): boolean {
    if (task.mm_numa_scan_seq - st.start_scan_seq < 2) return true
    if (st.pids_active0 || st.pids_active1) return true
    if (task.numa_scan_offset > vma.start) {
      this.traceSkip(t, task, vma, 'ignore_pid_inactive')
      return true
    }
    return false
  }

  private traceSkip(t: Kthread, task: NumaTask, vma: Vma, reason: SkipReason): void {
    const { tracer } = this.k
    if (!tracer.enabled(EV.sched_skip_vma_numa)) return
    tracer.emit(t.nowUs(), task.proc.pid, task.proc.comm, EV.sched_skip_vma_numa, [
      task.numa_scan_offset,
      vma.start,
      vma.end,
      reason,
    ])
  }

  /**
   * change_prot_numa() over [start, end) of a VMA: the PTE rules of change_pte_range() for
   * prot_numa, in the kernel's order. Returns the PTEs changed (numa_pte_updates).
   */
  private *changeProtNuma(
    t: Kthread,
    task: NumaTask,
    vma: Vma,
    start: number,
    end: number,
  ): Generator<Wait, number, void> {
    const { k } = this
    const mm = task.proc.mm
    const numab = task.numab!
    const first = vma.first + (start - vma.start) / PAGE_SIZE
    const last = vma.first + (end - vma.start) / PAGE_SIZE
    const mode = this.mode
    // A private VMA of a single-threaded mm: pages already on this node are left alone.
    const targetNode = mm.mm_users === 1 ? task.cpu_node : -1
    const stamp = accessTime(k.sched.now, this.quirks.access_time_wraps)
    const refresh = !this.quirks.protnone_keeps_first_time
    const pteNs = k.costs.numabPteNs
    const marked = this.marked
    let changed = 0
    for (let from = first; from < last; from += PROT_CHUNK) {
      const to = Math.min(last, from + PROT_CHUNK)
      const n = changePteRange(
        mm.flags,
        mm.node,
        numab.last_cpupid,
        k.machine.toptier,
        from,
        to,
        targetNode,
        mode,
        stamp,
        refresh,
        marked,
      )
      for (let j = 0; j < n; j++) this.queueHintFault(mm, numab, marked[j])
      changed += n
      t.charge((to - from) * pteNs, to - from)
      yield t.needResched() ? RESCHED : HOST_YIELD
    }
    k.vmstat.v[VM.numa_pte_updates] += changed
    return changed
  }

  /** The lazy shortcut: the first access after the marking is when the page faults. */
  private queueHintFault(mm: MmStruct, numab: MmNumab, i: number): void {
    const { k } = this
    const nowRel = k.sched.now - k.timeBase
    const na = mm.nextAccess[i]
    const rel = na > nowRel ? na : nextAccessAfter(mm, i, nowRel)
    if (rel === NEVER) {
      numab.faultAt[i] = Number.POSITIVE_INFINITY
      return
    }
    const at = rel + k.timeBase
    numab.faultAt[i] = at
    numab.push(at, i)
  }

  // ---- hint faults (docs/numa-balancing.md §4) --------------------------------------------

  /** Takes every queued hint fault that is due, in time order. */
  private *doHintFaults(t: Kthread, task: NumaTask): Generator<Wait, void, void> {
    const numab = task.numab
    if (!numab) return
    const mm = task.proc.mm
    let n = 0
    while (numab.peekAt() <= this.k.sched.now) {
      const at = numab.peekAt()
      const page = numab.peekPage()
      numab.pop()
      // A page migrated (and so made present) since, or marked again later: a stale entry.
      if (!(mm.flags[page] & PTE_PROTNONE) || numab.faultAt[page] !== at) continue
      this.doNumaPage(t, task, page, at)
      if (t.needResched()) yield RESCHED
      else if (++n % 64 === 0) yield HOST_YIELD
      if (t.should_stop()) return
    }
  }

  /** do_numa_page() for the page at index `page`, faulting at `at` (absolute ms). */
  private doNumaPage(t: Kthread, task: NumaTask, page: number, at: number): void {
    const { k } = this
    const mm = task.proc.mm
    const numab = task.numab!
    const toptier = k.machine.toptier
    const v = k.vmstat.v
    const costs = k.costs
    mm.flags[page] &= ~PTE_PROTNONE
    numab.faultAt[page] = 0
    // The access that faulted sets the Accessed bit (numa_rebuild_single_mapping: mkyoung).
    const rel = at - k.timeBase
    if (mm.nextAccess[page] > rel) mm.nextAccess[page] = Math.max(0, rel)
    const src = mm.node[page]
    const dst = task.cpu_node
    const useTime = (this.mode & NUMA_BALANCING_MEMORY_TIERING) !== 0 && !toptier[src]
    // numa_migrate_check()
    let flags = 0
    const lastCpupid = useTime ? LAST_CPUPID_NONE : numab.last_cpupid[page]
    this.setAccessPidBit(task, page)
    v[VM.numa_hint_faults]++
    task.hint_faults++
    if (src === dst) {
      v[VM.numa_hint_faults_local]++
      flags |= TNF_FAULT_LOCAL
    }
    t.charge(costs.hintFaultNs)
    task.fault_ns += costs.hintFaultNs
    let nid = src
    if (src !== dst) {
      if (this.shouldNumaMigrateMemory(task, page, src, dst, useTime)) {
        if (!k.machine.migrateBalanced(dst, 1)) {
          // migrate_misplaced_folio_prepare(): -EAGAIN; tiering mode wakes kswapd first.
          if (this.mode & NUMA_BALANCING_MEMORY_TIERING) k.wakeupKswapd(dst)
          flags |= TNF_MIGRATE_FAIL
        } else {
          k.movePage(mm, page, dst)
          mm.quality.promoted += toptier[dst] && !toptier[src] ? 1 : 0
          v[VM.pgmigrate_success]++
          v[VM.numa_pages_migrated]++
          task.numa_pages_migrated++
          if (this.mode & NUMA_BALANCING_MEMORY_TIERING && !toptier[src] && toptier[dst]) {
            k.vmstat.countNode(dst, 'pgpromote_success')
            this.pgdat[dst].pgpromote_success++
          }
          flags |= TNF_MIGRATED
          nid = dst
          t.charge(costs.numabMigrateNs)
          task.fault_ns += costs.numabMigrateNs
          this.traceMigrate(t, task)
        }
      }
    }
    this.taskNumaFault(task, lastCpupid, nid, 1, flags)
  }

  /** vma_set_access_pid_bit() */
  private setAccessPidBit(task: NumaTask, page: number): void {
    const mm = task.proc.mm
    const numab = task.numab!
    // The VMA holding the page: VMAs are laid out in page-index order.
    let lo = 0
    let hi = mm.vmas.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if (mm.vmas[mid].first <= page) lo = mid
      else hi = mid - 1
    }
    const st = numab.vmaState[lo]
    if (st) st.pids_active1 = true
  }

  private traceMigrate(t: Kthread, task: NumaTask): void {
    const { tracer } = this.k
    if (!tracer.enabled(EV.mm_migrate_pages)) return
    tracer.emit(t.nowUs(), task.proc.pid, task.proc.comm, EV.mm_migrate_pages, [
      1,
      0,
      0,
      0,
      0,
      0,
      'MIGRATE_ASYNC',
      'numa_misplaced',
    ])
  }

  /**
   * should_numa_migrate_memory(): true to migrate.
   */
  private shouldNumaMigrateMemory(
    task: NumaTask,
    page: number,
    src: number,
    dst: number,
    useTime: boolean,
  ): boolean {
    const { k } = this
    const numab = task.numab!
    if (k.machine.nodes[dst].pages === 0) return false
    if (useTime) {
      const pgdat = this.pgdat[dst]
      if (this.pgdatFreeSpaceEnough(dst)) {
        pgdat.nbp_threshold = 0
        return true
      }
      const defTh = this.hot_threshold_ms
      const rateLimit = this.rateLimitPages
      const now = k.sched.now
      numaPromotionAdjustThreshold(
        pgdat,
        rateLimit,
        defTh,
        now,
        this.scan_period_max_ms,
        this.quirks.threshold_creep,
      )
      const th = pgdat.nbp_threshold || defTh
      const { latency, stored } = numaHintFaultLatency(
        now,
        numab.last_cpupid[page],
        this.quirks.access_time_wraps,
      )
      numab.last_cpupid[page] = stored
      if (latency >= th) return false
      const limited = numaPromotionRateLimit(pgdat, rateLimit, 1, now)
      k.vmstat.countNode(dst, 'pgpromote_candidate')
      return !limited
    }
    // The cpupid filter: record this access, then the two-stage test.
    const thisCpupid =
      ((dst << LAST_PID_SHIFT) | (task.proc.pid & LAST_PID_MASK)) & LAST_CPUPID_MASK
    const last = numab.last_cpupid[page]
    numab.last_cpupid[page] = thisCpupid
    const tiering = (this.mode & NUMA_BALANCING_MEMORY_TIERING) !== 0
    if (!tiering && !k.machine.toptier[src] && !this.cpupidValid(last)) return false
    const pidUnset = (last & LAST_PID_MASK) === LAST_PID_MASK
    const pidMatch = (last & LAST_PID_MASK) === (task.proc.pid & LAST_PID_MASK)
    if ((task.numa_preferred_nid === -1 || task.numa_scan_seq <= 4) && (pidUnset || pidMatch))
      return true
    // The two-stage filter: the previous fault must have come from this node.
    if (!pidUnset && last >>> LAST_PID_SHIFT !== dst) return false
    // A private fault, or a shared one without a numa_group: both migrate.
    return true
  }

  /**
   * cpupid_valid(): the cpu field names a possible CPU. The simulation has one CPU per node,
   * numbered as the node; the unset cpupid (all ones) and most times left by tiering mode
   * (whose "cpu" field is the time's upper bits) are invalid.
   */
  private cpupidValid(cpupid: number): boolean {
    return cpupid >>> LAST_PID_SHIFT < this.k.machine.nodes.length
  }

  /** pgdat_free_space_enough(): free above WMARK_PROMO + max(1 GiB, present / 16). */
  pgdatFreeSpaceEnough(nid: number): boolean {
    const node = this.k.machine.nodes[nid]
    const enough = Math.max(FREE_SPACE_MIN_PAGES, node.pages >> 4)
    return node.free > node.wmarkPromo + enough
  }

  /** task_numa_fault(): the statistics that drive placement and the scan period. */
  private taskNumaFault(
    task: NumaTask,
    lastCpupid: number,
    mem_node: number,
    pages: number,
    flags: number,
  ): void {
    const { k } = this
    if (this.mode === 0) return
    if (
      !k.machine.toptier[mem_node] &&
      (this.mode & NUMA_BALANCING_MEMORY_TIERING || !this.cpupidValid(lastCpupid))
    )
      return
    // First accesses count as private, else private when the same pid faulted last.
    const priv =
      lastCpupid === LAST_CPUPID_NONE ||
      (lastCpupid & LAST_PID_MASK) === (task.proc.pid & LAST_PID_MASK)
        ? 1
        : 0
    const local = flags & TNF_FAULT_LOCAL ? 1 : 0
    if (k.sched.now > task.numa_migrate_retry) {
      this.taskNumaPlacement(task)
      // numa_migrate_preferred(): the task already runs on its node; retry after period / 16.
      if (task.numa_preferred_nid !== -1)
        task.numa_migrate_retry =
          k.sched.now + Math.min(1000, Math.floor(task.numa_scan_period / 16))
    }
    if (flags & TNF_MIGRATE_FAIL) task.locality[2] += pages
    task.faultsBuf[mem_node * 2 + priv] += pages
    task.locality[local] += pages
  }

  /** task_numa_placement() without numa_groups, once per completed pass. */
  private taskNumaPlacement(task: NumaTask): void {
    const seq = task.mm_numa_scan_seq
    if (task.numa_scan_seq === seq) return
    task.numa_scan_seq = seq
    task.numa_scan_period_max = taskScanMax(task.rss, this)
    const fault: [number, number] = [0, 0]
    let maxFaults = 0
    let maxNid = -1
    const nrNodes = this.k.machine.nodes.length
    for (let nid = 0; nid < nrNodes; nid++) {
      let faults = 0
      for (let priv = 0; priv < 2; priv++) {
        const i = nid * 2 + priv
        const diff = -Math.floor((task.faultsMem[i] + 1) / 2) + task.faultsBuf[i]
        fault[priv] += task.faultsBuf[i]
        task.faultsBuf[i] = 0
        task.faultsMem[i] += diff
        faults += task.faultsMem[i]
      }
      if (faults > maxFaults) {
        maxFaults = faults
        maxNid = nid
      }
    }
    if (maxFaults) {
      // Cannot migrate a task to a CPU-less node: numa_nearest_node(max_nid, N_CPU).
      const { machine } = this.k
      maxNid = machine.zonelist(maxNid).find((n) => machine.nodes[n].cpus) ?? maxNid
      task.numa_preferred_nid = maxNid
    }
    const next = updateTaskScanPeriod(
      task.numa_scan_period,
      task.numa_scan_period_max,
      taskScanMin(task.rss, this),
      taskScanMax(task.rss, this),
      task.locality,
      fault[0],
      fault[1],
      this.quirks.scan_period_doubling || !(this.mode & NUMA_BALANCING_MEMORY_TIERING),
    )
    task.numa_scan_period = next.period
    if (next.doubled) task.numa_next_scan = this.k.sched.now + next.period
    else task.locality.fill(0)
  }
}
