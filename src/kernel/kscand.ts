/**
 * kscand (kscand RFC V3 patches 01–04, 07–17; docs/spec/kscand-v3.md §7.2–§7.12): the global
 * kthread that walks every registered mm's page tables, test-and-clears the PTE Accessed bit,
 * and queues slow-tier pages accessed in two consecutive scans for kmigrated.
 */

import {
  KSCAND_DEFAULT_TARGET_NODE,
  KSCAND_IGNORE_SCAN_THR,
  KSCAND_MMS_TO_SCAN,
  KSCAND_SCAN_PERIOD,
  KSCAND_SCAN_PERIOD_MAX,
  KSCAND_SCAN_PERIOD_MIN,
  KSCAND_SCAN_SIZE,
  KSCAND_SCAN_SIZE_MAX,
  KSCAND_SCAN_SIZE_MIN,
  KSCAND_SCAN_SLEEP_MS,
  PAGE_SIZE,
  PR_PTE_A_SCAN_SCALE_MAX,
  SCAN_DECAY_SHIFT,
  SCAN_PERIOD_CHANGE_SCALE,
  SCAN_PERIOD_TUNE_PERCENT,
} from './constants.ts'
import type { KthreadContext } from './context.ts'
import { einval } from './errors.ts'
import { type Kmigrated, MigrateList } from './kmigrated.ts'
import type { MmStruct, Vma } from './mm.ts'
import {
  W_COLD,
  W_HOT_SEEN,
  W_IDLE,
  W_NR_TO_SCAN,
  W_QUEUED,
  W_QUEUED_HOT,
  W_SLOTS,
  W_SLOW,
  W_SLOW_ACCESSED,
  W_TOP,
  W_VISITED,
  walkPtes,
} from './pte-walk.ts'
import { HOST_YIELD, type Kthread, RESCHED, type Wait, WaitQueue } from './sched.ts'

/**
 * PTEs walked between two cond_resched() points of a scan (each yields to other threads only
 * once the thread used its slice) and, between those, to the host's event loop.
 */
const WALK_CHUNK = 1 << 12

import { EV } from './trace.ts'
import { VM } from './vmstat.ts'

/** kscand hands what it found to kmigrated: the one other thread it reaches. */
export interface KscandContext extends KthreadContext {
  readonly kmigrated: Kmigrated
}

/** struct kscand_mm_slot */
export class KscandMmSlot {
  next: KscandMmSlot | null = null
  prev: KscandMmSlot | null = null
  /** Resume address of the next scan. */
  address = 0
  scan_period: number
  scan_size = KSCAND_SCAN_SIZE
  next_scan: number
  scan_delta = 0
  is_scanned = false
  target_node = 0

  constructor(
    readonly mm: MmStruct,
    scanPeriod: number,
    nextScan: number,
  ) {
    this.scan_period = scanPeriod
    this.next_scan = nextScan
  }
}

/**
 * The scan_period / scan_size update of docs/spec/kscand-v3.md §7.11, in the kernel's integer
 * arithmetic.
 */
export function updateScanParams(
  old: { scan_delta: number; scan_period: number; scan_size: number },
  accessed: number,
  scale: number,
  fratio: number,
): { scan_delta: number; scan_period: number; scan_size: number } {
  const prev = old.scan_delta
  let period = old.scan_period
  let size = old.scan_size
  let total = Math.floor(prev / 2 ** SCAN_DECAY_SHIFT) + accessed
  if (total < KSCAND_IGNORE_SCAN_THR) total = 0
  if (!prev && !total) {
    // case 1: nothing then, nothing now — scan less often and less
    period = Math.floor((period * (100 + SCAN_PERIOD_TUNE_PERCENT)) / 100)
    size = Math.floor(size / 2)
  } else if (prev && total) {
    // case 4: useful pages then and now — scan more often and more
    period = Math.floor((period * (100 - SCAN_PERIOD_TUNE_PERCENT)) / 100)
    size *= 2
  } else if (prev && !total) {
    // case 3: they stopped — back off hard, size unchanged
    period = period * 2 ** SCAN_PERIOD_CHANGE_SCALE
  } else {
    // case 2: they started — scan soon, and as much as allowed
    period = Math.floor(period / 2 ** SCAN_PERIOD_CHANGE_SCALE)
    size = KSCAND_SCAN_SIZE_MAX
  }
  period = Math.min(Math.max(period, KSCAND_SCAN_PERIOD_MIN), KSCAND_SCAN_PERIOD_MAX)
  // kscand_get_scaled_scan_period() (patch 16), applied after the clamp.
  if (scale) period += Math.floor((period * (scale - 1)) / (PR_PTE_A_SCAN_SCALE_MAX - 1))
  // Migration failure feedback (patch 11): each full 10 % of failures adds one period.
  period *= 1 + Math.floor(fratio / 10)
  size = Math.min(Math.max(size, KSCAND_SCAN_SIZE_MIN), KSCAND_SCAN_SIZE_MAX)
  return { scan_delta: total, scan_period: period, scan_size: size }
}

export class Kscand {
  readonly thread: Kthread
  readonly wait = new WaitQueue()

  // Tunables (docs/spec/kscand-v3.md §3): /sys/kernel/mm/kscand/*
  scan_sleep_ms = KSCAND_SCAN_SLEEP_MS
  mm_scan_period_ms = KSCAND_SCAN_PERIOD
  mms_to_scan = KSCAND_MMS_TO_SCAN
  scan_enabled = true
  target_node = KSCAND_DEFAULT_TARGET_NODE

  need_wakeup = false
  sleep_expire = 0

  // kscand_scan: the mm list and the scanner's current slot.
  private head: KscandMmSlot | null = null
  private tail: KscandMmSlot | null = null
  cur: KscandMmSlot | null = null
  private readonly slots = new Map<MmStruct, KscandMmSlot>()

  // kscand_scanctrl: one global instance (docs/spec/kscand-v3.md §2).
  /** Address of the last PTE the walker visited, in any mm (docs/spec/kscand-v3.md §7.13 quirk 3). */
  scanctrlAddress = 0
  private nrToScan = 0
  /** nodeinfo[nid].nr_accessed of the top-tier nodes, for get_target_node(). */
  private readonly topAccessed: Float64Array
  /** The same summed over the slow tier: the scan's `total`. */
  private slowAccessed = 0
  private readonly scanList = new MigrateList()
  private readonly walkOut = new Float64Array(W_SLOTS)
  /** The mm kscand is inside (holding its mmap_lock for read), between cond_resched()s. */
  scanning: MmStruct | null = null

  constructor(
    private readonly k: KscandContext,
    pid: number,
  ) {
    this.thread = k.sched.kthread('kscand', pid, (t) => this.main(t))
    this.topAccessed = new Float64Array(k.machine.nodes.length)
  }

  // ---- sysfs stores (docs/spec/kscand-v3.md §3); the HTTP layer parses with kstrto* first ---

  private kick(): void {
    this.sleep_expire = 0
    this.k.sched.wake_up(this.wait)
  }

  store_scan_sleep_ms(msecs: number): void {
    this.scan_sleep_ms = msecs
    this.kick()
  }

  /** Out-of-range values are clamped, not rejected; only mms registered later use it. */
  store_mm_scan_period_ms(msecs: number): void {
    this.mm_scan_period_ms = Math.min(
      Math.max(msecs, KSCAND_SCAN_PERIOD_MIN),
      KSCAND_SCAN_PERIOD_MAX,
    )
    this.kick()
  }

  store_mms_to_scan(val: number): void {
    this.mms_to_scan = val
    this.kick()
  }

  store_scan_enabled(val: number): void {
    if (val > 1) throw einval(`scan_enabled takes 0 or 1, got ${val}`)
    this.scan_enabled = val === 1
    if (this.scan_enabled) this.need_wakeup = true
    this.kick()
  }

  /**
   * Must name a top-tier node. V3 zeroes kscand_sleep_expire before the check (quirk 7); the
   * simulation checks first, since a rejected write must change nothing and the early zeroing
   * has no visible effect without a wake_up.
   */
  store_target_node(node: number): void {
    if (!this.k.machine.isToptier(node)) throw einval(`node ${node} is not a top-tier node`)
    this.target_node = node
    this.kick()
  }

  // ---- mm registration (docs/spec/kscand-v3.md §7.2) ----------------------------------------

  /** __kscand_enter(): called on fork and exec. */
  enter(mm: MmStruct, ctx: { pid: number; comm: string }): void {
    const { k } = this
    const slot = new KscandMmSlot(
      mm,
      this.mm_scan_period_ms,
      k.sched.now + 2 * k.numa_balancing_scan_delay_ms,
    )
    const wasEmpty = this.head === null
    slot.prev = this.tail
    if (this.tail) this.tail.next = slot
    else this.head = slot
    this.tail = slot
    this.slots.set(mm, slot)
    if (k.tracer.enabled(EV.kmem_mm_enter)) {
      k.tracer.emit(k.sched.now * 1000, ctx.pid, ctx.comm, EV.kmem_mm_enter, [mm.id], mm.owner)
    }
    if (wasEmpty) k.sched.wake_up(this.wait)
  }

  /** __kscand_exit(): called when the last user of the mm goes away. */
  exit(mm: MmStruct, ctx: { pid: number; comm: string }): void {
    const { k } = this
    if (k.tracer.enabled(EV.kmem_mm_exit)) {
      k.tracer.emit(k.sched.now * 1000, ctx.pid, ctx.comm, EV.kmem_mm_exit, [mm.id], mm.owner)
    }
    const slot = this.slots.get(mm)
    if (slot && slot === this.cur && slot.is_scanned) {
      // Case 3: the scanner owns the slot; it frees it on its next visit (collect). If it is
      // inside this mm now, mmap_write_lock() waits for its scan to end: run it to there.
      while (this.scanning === mm) k.sched.preempt(this.thread)
      return
    }
    if (slot) {
      // Cases 1 and 2.
      if (slot === this.cur) this.cur = null
      this.unlink(slot)
    }
    k.kmigrated.cleanupMigrationList(mm)
  }

  /** Registered slots in list order. */
  list(): KscandMmSlot[] {
    const out: KscandMmSlot[] = []
    for (let s = this.head; s; s = s.next) out.push(s)
    return out
  }

  slotOf(mm: MmStruct): KscandMmSlot | undefined {
    return this.slots.get(mm)
  }

  private unlink(slot: KscandMmSlot): void {
    if (slot.prev) slot.prev.next = slot.next
    else this.head = slot.next
    if (slot.next) slot.next.prev = slot.prev
    else this.tail = slot.prev
    slot.next = null
    slot.prev = null
    this.slots.delete(slot.mm)
  }

  // ---- the thread (docs/spec/kscand-v3.md §7.3) ---------------------------------------------

  private *main(t: Kthread): Generator<Wait, void, void> {
    for (;;) {
      if (t.should_stop()) return
      while (!this.scan_enabled) {
        // V3 spins here with no way out but scan_enabled; the simulation can also be stopped.
        if (t.should_stop()) return
        yield* this.waitWork(t, true)
      }
      yield* this.doScan(t)
      t.cycles++
      yield* this.waitWork(t, false)
    }
  }

  /** kscand_wait_work(); with scan_sleep_ms = 0 there is no sleep at all (quirk 8). */
  private *waitWork(t: Kthread, paused: boolean): Generator<Wait, void, void> {
    const j = this.scan_sleep_ms
    const { sched } = this.k
    if (!j) {
      if (!paused) return
      // Busy-spinning with cpu_relax() until re-enabled: modelled as a wait that burns the CPU.
      t.spinningSince = sched.now
      yield {
        kind: 'wait',
        wq: this.wait,
        cond: () => t.should_stop() || this.scan_enabled,
        timeout: Number.POSITIVE_INFINITY,
        paused: true,
      }
      t.cpu_ns = t.cpuTimeNs()
      t.spinningSince = null
      return
    }
    this.sleep_expire = sched.now + j
    yield {
      kind: 'wait',
      wq: this.wait,
      cond: () => {
        const wake = t.should_stop() || this.need_wakeup || sched.now >= this.sleep_expire
        this.need_wakeup = false
        return wake
      },
      timeout: j,
      paused,
      uninterruptible: true,
    }
  }

  /** kscand_do_scan(): up to mms_to_scan visits, round-robin over the mm list. */
  private *doScan(t: Kthread): Generator<Wait, void, void> {
    const mmsToScan = this.mms_to_scan
    const visitNs = this.k.costs.visitNs
    let iter = 0
    let slow = 0
    for (;;) {
      if (t.should_stop() || !this.scan_enabled) return
      if (slow === 0 && this.nothingToDo()) {
        // Every visit until the next cond_resched() point would be a no-op: do them at once.
        const n = Math.min(mmsToScan - iter, t.unitsBeforeResched(visitNs))
        this.idleVisits(n)
        t.charge(n * visitNs, n)
        iter += n
      } else {
        // Something is due: visit one by one for a full round, which reaches it.
        if (slow === 0) slow = this.slots.size
        if (this.head) yield* this.scanMmSlot(t)
        t.charge(visitNs)
        iter++
        slow--
      }
      if (iter >= mmsToScan) return
      if (t.needResched()) yield RESCHED
    }
  }

  /**
   * True when a visit of any mm would only note it and move on: none is due, none is
   * exiting, and nobody traces kmem_scan_mm_start (which fires on every visit).
   */
  private nothingToDo(): boolean {
    const { k } = this
    if (k.tracer.enabled(EV.kmem_scan_mm_start)) return false
    const now = k.sched.now
    for (let s = this.head; s; s = s.next) {
      const mm = s.mm
      if (mm.mm_users === 0) return false
      if (mm.pte_scan_scale !== 0 && (!s.next_scan || now >= s.next_scan)) return false
    }
    return true
  }

  /** n visits that do nothing but what scanMmSlot() does for an mm that is not due. */
  private idleVisits(n: number): void {
    const m = this.slots.size
    if (m === 0) return
    let s = this.cur ?? this.head
    for (let i = 0; i < Math.min(n, m); i++) {
      s = s ?? this.head
      s!.is_scanned = true
      if (s!.mm.pte_scan_scale !== 0) s!.mm.target_node = s!.target_node
      s = s!.next
    }
    // The other visits only go round the list, which repeats every m visits.
    const rest = (n - Math.min(n, m)) % m
    for (let i = 0; i < rest; i++) s = (s ?? this.head)!.next
    this.cur = s
  }

  /** kscand_scan_mm_slot(): one visit (docs/spec/kscand-v3.md §7.4). */
  private *scanMmSlot(t: Kthread): Generator<Wait, void, void> {
    const { k } = this
    const slot = this.cur ?? this.head!
    this.cur = slot
    const mm = slot.mm
    slot.is_scanned = true
    const exiting = mm.mm_users === 0
    // An exiting mm, or one with prctl scale 0, is skipped (next_mm = true).
    if (!exiting && mm.pte_scan_scale !== 0) {
      mm.target_node = slot.target_node
      if (k.tracer.enabled(EV.kmem_scan_mm_start)) {
        k.tracer.emit(t.nowUs(), t.pid, t.comm, EV.kmem_scan_mm_start, [mm.id], mm.owner)
      }
      if (!slot.next_scan || k.sched.now >= slot.next_scan) {
        this.scanning = mm
        yield* this.scanMm(t, slot)
        this.scanning = null
      }
    }
    // Step 12: every path advances to the next mm (the VMA loop ends on a break, which sets
    // next_mm, or with no VMA left), so is_scanned is never reset: it stays true once visited.
    this.cur = slot.next
    if (exiting) {
      // kscand_collect_mm_slot()
      this.unlink(slot)
      k.kmigrated.cleanupMigrationList(mm)
    }
  }

  /**
   * Steps 5–10 of docs/spec/kscand-v3.md §7.4: the VMA loop and the per-mm update, for an mm
   * that is due.
   */
  private *scanMm(t: Kthread, slot: KscandMmSlot): Generator<Wait, void, void> {
    const { k } = this
    const mm = slot.mm
    const scanPeriod = slot.scan_period
    const scanSize = slot.scan_size
    // nr_to_scan = scan_size >> PAGE_SHIFT, immediately overwritten by scan_size >> 1 (quirk 2).
    this.nrToScan = Math.floor(scanSize / 2)
    let vmaScannedSize = 0
    const vmas = mm.vmas
    let vi = mm.findVma(slot.address)
    for (; vi < vmas.length; vi++) {
      const vma = vmas[vi]
      if (vma.scannable) yield* this.walkVma(t, mm, vma)
      k.vmstat.v[VM.nr_kscand_vma_scans]++
      vmaScannedSize += vma.end - vma.start
      if (vmaScannedSize >= scanSize || this.nrToScan === 0) {
        if (this.scanList.length > 0) {
          k.kmigrated.splice(mm, this.scanList)
          break
        }
        // Quirk 1: V3 only ends the scan on a VMA that produced candidates.
        if (!k.quirks.scan_budget_needs_candidates) break
      }
      if (this.scanList.length > 0) k.kmigrated.splice(mm, this.scanList)
    }
    // Step 7: wrap to the start when the VMAs ran out, else resume after the last PTE seen.
    const address = vi >= vmas.length ? 0 : this.scanctrlAddress + PAGE_SIZE
    k.vmstat.v[VM.nr_kscand_mm_scans]++
    const total = this.slowAccessed
    const targetNode = this.getTargetNode()
    const kslot = k.kmigrated.lookup(mm)
    if (kslot) kslot.migration_nmask = k.machine.nodes.filter((n) => n.toptier).map((n) => n.id)
    mm.target_node = targetNode
    // reset_scanctrl()
    this.topAccessed.fill(0)
    this.slowAccessed = 0
    slot.address = address
    const next = updateScanParams(slot, total, mm.pte_scan_scale, kslot?.fratio ?? 0)
    slot.scan_delta = next.scan_delta
    slot.scan_period = next.scan_period
    slot.scan_size = next.scan_size
    slot.next_scan = k.sched.now + next.scan_period
    slot.target_node = targetNode
    if (k.tracer.enabled(EV.kmem_scan_mm_end)) {
      k.tracer.emit(
        t.nowUs(),
        t.pid,
        t.comm,
        EV.kmem_scan_mm_end,
        [mm.id, address, total, scanPeriod, scanSize, targetNode],
        mm.owner,
      )
    }
  }

  /**
   * get_target_node() (docs/spec/kscand-v3.md §7.7): the top-tier node with most accesses this
   * scan, else sysfs.
   */
  private getTargetNode(): number {
    const { toptier } = this.k.machine
    let target = -1
    let prev = 0
    for (let n = 0; n < toptier.length; n++) {
      if (toptier[n] && this.topAccessed[n] > prev) {
        prev = this.topAccessed[n]
        target = n
      }
    }
    return target === -1 ? this.target_node : target
  }

  /**
   * walk_page_vma() with hot_vma_idle_pte_entry() (docs/spec/kscand-v3.md §7.6) over every PTE
   * of the VMA, in chunks with a cond_resched() point between them, so that scanning a large mm
   * neither stalls the other threads nor the event loop that runs the simulation. Stops early
   * only when nr_to_scan runs out.
   */
  private *walkVma(t: Kthread, mm: MmStruct, vma: Vma): Generator<Wait, void, void> {
    const end = vma.first + vma.nrPages
    for (let from = vma.first; from < end; from += WALK_CHUNK) {
      const stopped = this.walkChunk(t, mm, vma, from, Math.min(end, from + WALK_CHUNK))
      if (stopped) return
      yield t.needResched() ? RESCHED : HOST_YIELD
    }
  }

  /** PTEs [from, to) of the VMA; true when nr_to_scan ran out. */
  private walkChunk(t: Kthread, mm: MmStruct, vma: Vma, from: number, to: number): boolean {
    const { k } = this
    const out = this.walkOut
    const list = this.scanList
    const canQueue = Math.max(0, k.maxMigrateInfo - k.kmigrated.queued)
    const room = list.reserve(Math.min(to - from, canQueue))
    out[W_NR_TO_SCAN] = this.nrToScan
    walkPtes(
      mm,
      from,
      to,
      k.sched.now - k.timeBase,
      k.machine.toptier,
      k.hotRateQ,
      this.topAccessed,
      room.page,
      room.nid,
      room.at,
      canQueue,
      out,
    )
    this.nrToScan = out[W_NR_TO_SCAN]
    this.slowAccessed += out[W_SLOW_ACCESSED]
    const queued = out[W_QUEUED]
    list.commit(queued)
    const visited = out[W_VISITED]
    // scanctrl->address is set on entry of every pte_entry call.
    if (visited > 0) this.scanctrlAddress = vma.start + (from - vma.first + visited - 1) * PAGE_SIZE
    const v = k.vmstat.v
    v[VM.nr_kscand_toptier] += out[W_TOP]
    v[VM.nr_kscand_slowtier] += out[W_SLOW]
    v[VM.nr_kscand_idlepage] += out[W_IDLE]
    v[VM.nr_kscand_coldpage] += out[W_COLD]
    v[VM.nr_kscand_migadded] += queued
    k.kmigrated.queued += queued
    mm.quality.queued += queued
    mm.quality.queuedHot += out[W_QUEUED_HOT]
    mm.quality.hotSlowSeen += out[W_HOT_SEEN]
    t.charge(visited * k.costs.pteNs, visited)
    return from + visited < to
  }
}
