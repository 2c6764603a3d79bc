/**
 * The simulated kernel: a machine, its processes, the kscand / kmigrated / kswapd threads,
 * vmstat and tracepoints, on a virtual clock. Pure: no timers, no I/O, no Math.random —
 * the same seed and the same commands at the same virtual times give the same trace.
 *
 * Every command validates its arguments before it changes anything and throws a
 * KernelError (EINVAL, ESRCH, ENOMEM, …) that names the problem.
 */
import { nextAccessAfter } from './access.ts'
import { ClosedLoops, validateClosedLoop } from './closed-loop.ts'
import {
  MAX_PROCESSES,
  MAX_VMAS,
  NUMA_BALANCING_SCAN_DELAY_MS,
  PR_GET_PTE_A_SCAN_SCALE,
  PR_PTE_A_SCAN_SCALE_MAX,
  PR_PTE_A_SCAN_SCALE_MIN,
  PR_SET_PTE_A_SCAN_SCALE,
} from './constants.ts'
import { checkInt, checkNumber, einval, KernelError } from './errors.ts'
import {
  accessQuality,
  HISTORY_PROCESSES_DEFAULT,
  HISTORY_PROCESSES_MAX,
  HISTORY_SECONDS_DEFAULT,
  HISTORY_SECONDS_MAX,
  HISTORY_SECONDS_MIN,
  History,
} from './history.ts'
import { Kmigrated } from './kmigrated.ts'
import { Kscand, type KscandContext } from './kscand.ts'
import { Kswapd } from './kswapd.ts'
import { DEFAULT_TOPOLOGY, Machine } from './machine.ts'
import {
  layoutVmas,
  MmStruct,
  PageBins,
  PG_IDLE,
  PG_LRU,
  PG_REFERENCED,
  PG_YOUNG,
  Process,
  PTE_PROTNONE,
} from './mm.ts'
import { NUMA_BALANCING_MAX, NumaBalancing } from './numa-balancing.ts'
import { deriveSeed } from './prng.ts'
import { NEVER, quantizeRate, RATE } from './rate.ts'
import { type Kthread, Scheduler } from './sched.ts'
import type {
  CostModel,
  KernelConfig,
  PolicySpec,
  ProcessSpec,
  Quirks,
  WorkloadSpec,
} from './spec.ts'
import { type PromotionStall, promotionStall } from './stall.ts'
import { Tracer } from './trace.ts'
import { Vmstat } from './vmstat.ts'
import { assignRates, sweepPeriodMs, validateWorkload } from './workload.ts'

export const DEFAULT_COSTS: CostModel = {
  visitNs: 200,
  pteNs: 20,
  migrateNs: 5000,
  checkNs: 200,
  reclaimScanNs: 50,
  // Calibrated in docs/numa-balancing.md §8.
  numabScanNs: 10_000,
  numabPteNs: 76,
  hintFaultNs: 2_000,
  numabMigrateNs: 28_900,
}

/** Pages a placement put on `nid` for allocations that preferred `preferred`. */
interface PageAllocs {
  readonly nid: number
  readonly preferred: number
  readonly n: number
  /** MPOL_INTERLEAVE got the node it asked for. */
  readonly interleave: boolean
}

export const KSCAND_PID = 90
export const KMIGRATED_PID = 91
const KSWAPD_PID_BASE = 70
const FIRST_PID = 1000
/** nextAccess is a u32 relative to timeBase; rebase well before it could overflow. */
const REBASE_AT = 2 ** 31
const REBASE_BY = 2 ** 30

export class Kernel implements KscandContext {
  readonly seed: number
  readonly machine: Machine
  readonly tracer = new Tracer()
  readonly sched: Scheduler
  readonly vmstat: Vmstat
  readonly costs: CostModel
  readonly quirks: Quirks
  /** sysctl_numa_balancing_scan_delay (debugfs scan_delay_ms), shared with kscand. */
  numa_balancing_scan_delay_ms: number
  readonly hotThreshold: number
  readonly hotRateQ: number
  readonly maxMigrateInfo: number
  readonly maxProcesses: number
  readonly maxVmas: number
  /**
   * Asked before a process is created (exec, fork), after its spec validated: throws a
   * KernelError to refuse it, nothing having changed. The state file's size budget.
   */
  admitProcess: ((spec: ProcessSpec) => void) | null = null
  demotion_enabled: boolean
  /** Virtual ms that per-page next-access times are relative to. */
  timeBase = 0
  readonly kscand: Kscand
  readonly kmigrated: Kmigrated
  readonly kswapd: Kswapd[]
  readonly numab: NumaBalancing
  readonly closedLoops = new ClosedLoops(this)
  /** What the dashboard charts, one sample per virtual second (history.ts). */
  readonly history: History
  private readonly procs = new Map<number, Process>()
  private procList: Process[] = []
  private nextPid = FIRST_PID
  /** Rows of PageBins at most, once recordPageBins() asked for them. */
  private binRows = 0

  constructor(config: KernelConfig = {}) {
    this.seed = checkInt('seed', config.seed ?? 1, 0, 2 ** 32 - 1)
    this.machine = new Machine(config.topology ?? DEFAULT_TOPOLOGY)
    this.vmstat = new Vmstat(this.machine.nodes.length)
    this.costs = { ...DEFAULT_COSTS, ...config.costs }
    // Whole nanoseconds keep batched and one-by-one charging bit-identical.
    for (const [name, v] of Object.entries(this.costs)) checkInt(`costs.${name}`, v, 0, 1e9)
    this.quirks = {
      kmigrated_sticky_slot: true,
      scan_budget_needs_candidates: true,
      kmigrated_wait_returns_at_once: true,
      ...config.quirks,
    }
    this.numa_balancing_scan_delay_ms = checkInt(
      'numaBalancingScanDelayMs',
      config.numaBalancingScanDelayMs ?? NUMA_BALANCING_SCAN_DELAY_MS,
      0,
      2 ** 31,
    )
    this.hotThreshold = checkNumber('hotThreshold', config.hotThreshold ?? 0.5, 1e-9, 1e9)
    this.hotRateQ = quantizeRate(this.hotThreshold)
    this.maxMigrateInfo = checkInt('maxMigrateInfo', config.maxMigrateInfo ?? 1 << 20, 0, 2 ** 31)
    this.maxProcesses = checkInt(
      'maxProcesses',
      config.maxProcesses ?? MAX_PROCESSES,
      1,
      MAX_PROCESSES,
    )
    this.maxVmas = checkInt('maxVmas', config.maxVmas ?? MAX_VMAS, 1, MAX_VMAS)
    this.demotion_enabled = config.demotionEnabled ?? true
    this.sched = new Scheduler(this.tracer)
    this.kscand = new Kscand(this, KSCAND_PID)
    this.kmigrated = new Kmigrated(this, KMIGRATED_PID)
    this.kswapd = this.machine.nodes
      .filter((n) => n.toptier)
      .map((n) => new Kswapd(this, n.id, KSWAPD_PID_BASE + n.id))
    this.numab = new NumaBalancing(this)
    this.numab.store_mode(
      checkInt('numaBalancing', config.numaBalancing ?? 0, 0, NUMA_BALANCING_MAX),
    )
    this.history = new History(
      this,
      checkInt(
        'historySeconds',
        config.historySeconds ?? HISTORY_SECONDS_DEFAULT,
        HISTORY_SECONDS_MIN,
        HISTORY_SECONDS_MAX,
      ),
      checkInt(
        'historyProcesses',
        config.historyProcesses ?? HISTORY_PROCESSES_DEFAULT,
        0,
        HISTORY_PROCESSES_MAX,
      ),
    )
    if (config.autostart ?? true) for (const t of this.threads()) this.sched.start(t)
  }

  // ---- time ----------------------------------------------------------------------------

  get now(): number {
    return this.sched.now
  }

  /**
   * Runs the simulation up to virtual time `until` (ms). With `maxSteps` it may stop early
   * (returns false) so a caller can bound the work done per event-loop turn. The run stops
   * at each whole second on the way for the history's sample: everything due at that jiffy
   * has run, nothing later has.
   */
  run(until: number, maxSteps = Number.POSITIVE_INFINITY): boolean {
    checkNumber('until', until, 0, Number.MAX_SAFE_INTEGER)
    const start = this.sched.steps
    for (;;) {
      if (this.sched.now - this.timeBase >= REBASE_AT) this.rebase()
      const segment = Math.min(until, this.timeBase + REBASE_AT + REBASE_BY, this.history.nextAt)
      const done = this.sched.run(Math.floor(segment), maxSteps - (this.sched.steps - start))
      if (done && this.sched.now === this.history.nextAt) this.history.sample(this)
      if (!done || segment >= until) return done
    }
  }

  /** Runs for `ms` more milliseconds of virtual time. */
  advance(ms: number): void {
    checkNumber('ms', ms, 0, Number.MAX_SAFE_INTEGER)
    this.run(this.sched.now + ms)
  }

  private rebase(): void {
    for (const p of this.procList) {
      const na = p.mm.nextAccess
      for (let i = 0; i < na.length; i++) {
        const v = na[i]
        if (v !== NEVER) na[i] = v > REBASE_BY ? v - REBASE_BY : 0
      }
      p.mm.sweepStartRel -= REBASE_BY
    }
    this.timeBase += REBASE_BY
  }

  // ---- threads -------------------------------------------------------------------------

  threads(): Kthread[] {
    return [this.kscand.thread, this.kmigrated.thread, ...this.kswapd.map((s) => s.thread)]
  }

  thread(name: string): Kthread {
    const t = this.threads().find((x) => x.comm === name)
    if (!t) throw new KernelError('ENOENT', `no such kernel thread: ${name}`)
    return t
  }

  /** Starts a thread; false if it was already running (one thread, as start_kmigrated()). */
  startThread(name: string): boolean {
    return this.sched.start(this.thread(name))
  }

  /** Stops a thread at its next should_stop point; false if it was not running. */
  stopThread(name: string): boolean {
    return this.sched.stop(this.thread(name))
  }

  /**
   * A stop userspace asks for (POST /threads/NAME/stop): kscand and kmigrated stop, a control
   * of the simulation. kswapd has no such interface — only memory hot-remove stops it
   * (kswapd_stop()) — so that is EPERM, and nothing changes.
   */
  stopThreadFromUser(name: string): boolean {
    const t = this.thread(name)
    if (this.kswapd.some((s) => s.thread === t)) {
      throw new KernelError('EPERM', `${name} cannot be stopped from userspace`)
    }
    return this.sched.stop(t)
  }

  wakeupKswapd(nid: number): void {
    this.kswapd.find((s) => s.nid === nid)?.wake()
  }

  // ---- processes -----------------------------------------------------------------------

  processList(): readonly Process[] {
    return this.procList
  }

  process(pid: number): Process {
    const p = Number.isInteger(pid) ? this.procs.get(pid) : undefined
    if (!p) throw new KernelError('ESRCH', `no such process: ${pid}`)
    return p
  }

  totalPages(): number {
    return this.procList.reduce((s, p) => s + p.mm.nrPages, 0)
  }

  /** execve() of a new process: builds its mm, places its pages, registers it with kscand. */
  exec(spec: ProcessSpec): Process {
    return this.spawn(spec, null)
  }

  /**
   * fork(): the child gets the parent's layout, policy and workload with a seed of its own.
   * Simplification: the child's pages are its own from the start (as after copy-on-write
   * has broken every page), so they are not folio_maybe_mapped_shared(); its PTEs start old.
   */
  fork(pid: number): Process {
    const parent = this.process(pid)
    return this.spawn(parent.spec, parent)
  }

  private spawn(spec: ProcessSpec, parent: Process | null): Process {
    const comm = spec?.comm
    if (typeof comm !== 'string' || !/^[\x21-\x7e]{1,15}$/.test(comm)) {
      throw einval('comm must be 1 to 15 printable characters without spaces')
    }
    const maxPages = this.machine.nodes.reduce((s, n) => s + n.pages, 0)
    if (spec.vmas && spec.size !== undefined) throw einval('give either size or vmas, not both')
    const vmaSpecs = spec.vmas ?? [{ kind: 'anon' as const, size: spec.size as number }]
    if (Array.isArray(vmaSpecs) && vmaSpecs.length > this.maxVmas) {
      throw new KernelError('E2BIG', `${vmaSpecs.length} VMAs; a process may have ${this.maxVmas}`)
    }
    const vmas = layoutVmas(vmaSpecs, maxPages)
    const workload: WorkloadSpec = spec.workload ?? { pattern: 'uniform' }
    const closed_loop = spec.closed_loop
    if (closed_loop !== undefined) {
      if (spec.access_rate !== undefined) throw einval('give either access_rate or closed_loop')
      validateClosedLoop(closed_loop, workload)
    }
    // A closed-loop process gets its rates from its loop once placed.
    const access_rate = closed_loop ? 0 : (spec.access_rate ?? 1e6)
    validateWorkload(workload, access_rate)
    if (this.procList.length >= this.maxProcesses) {
      throw new KernelError('ENOSPC', `${this.procList.length} processes: the most there can be`)
    }
    this.admitProcess?.(spec)
    const policy: PolicySpec = spec.policy ?? { mode: 'local' }
    const pid = this.nextPid
    const seed = deriveSeed(this.seed, pid)
    const mm = new MmStruct(
      deriveSeed(this.seed, 0x6d6d, pid),
      pid,
      vmas,
      this.machine.nodes.length,
    )
    // Place every page (first touch at exec) before anything global changes.
    const cpu_node = this.taskCpuNode(policy)
    const { used, allocs } = this.placePages(mm, policy, cpu_node)
    this.nextPid++
    const now = this.sched.now
    const nowRel = now - this.timeBase
    mm.rng[0] = seed
    const accessed = mm.accessedPages()
    assignRates(workload, access_rate, accessed, mm.rateQ, seed, 0)
    if (workload.pattern === 'sequential') {
      mm.sweepMs = sweepPeriodMs(access_rate, mm.nrPages)
      mm.sweepStartRel = nowRel
    }
    mm.nextAccess.fill(NEVER)
    // Faulting a page in leaves its PTE young; fork's copy_present_pte() makes the child's
    // PTEs old (pte_mkold), so a child's page is young again at its first access.
    for (let i = 0; i < accessed.length; i++) {
      const page = accessed.at(i)
      mm.nextAccess[page] = parent ? nextAccessAfter(mm, page, nowRel) : nowRel
    }
    for (const v of vmas) mm.flags.fill(v.initialFlags(), v.first, v.first + v.nrPages)
    for (let n = 0; n < used.length; n++) {
      this.machine.nodes[n].free -= used[n]
      mm.pagesOnNode[n] = used[n]
    }
    // The first-touch faults: one allocation per page (numastat).
    for (const a of allocs) this.vmstat.countAlloc(a.nid, a.preferred, cpu_node, a.n, a.interleave)
    // RATE read once: under tsx an imported binding is a getter call (BENCHMARKS.md).
    const rate = RATE
    for (let i = 0; i < mm.nrPages; i++) mm.rateOnNode[mm.node[i]] += rate[mm.rateQ[i]]
    if (this.binRows > 0) this.addPageBins(mm)
    const proc = new Process(
      pid,
      comm,
      mm,
      spec,
      workload,
      access_rate,
      now,
      seed,
      parent?.pid ?? null,
    )
    this.procs.set(pid, proc)
    this.procList = [...this.procList, proc]
    // Each thread is a user of the mm.
    if (closed_loop) mm.mm_users = closed_loop.threads
    // kscand_fork() runs in the parent's dup_mmap(); kscand_execve() in the new image.
    this.kscand.enter(mm, parent ?? proc)
    this.numab.taskInit(proc, cpu_node)
    if (closed_loop) this.closedLoops.start(proc, closed_loop)
    for (const node of this.machine.nodes) {
      if (node.toptier && node.free < node.wmarkLow) this.wakeupKswapd(node.id)
    }
    if (workload.pattern === 'hotset' && workload.shift_at_ms !== undefined) {
      this.sched.at(now + workload.shift_at_ms, () => this.shiftHotSet(proc))
    }
    return proc
  }

  /**
   * Page placement by policy: fills mm.node and returns pages taken per node, or throws
   * ENOMEM without touching the machine. Like the page allocator, a first pass keeps each
   * node above its low watermark and a second pass goes down to the min watermark. `allocs`
   * says, per node and preferred node, how many pages went there (zone_statistics()).
   */
  private placePages(
    mm: MmStruct,
    policy: PolicySpec,
    cpu_node: number,
  ): { used: number[]; allocs: PageAllocs[] } {
    const { machine } = this
    const nrNodes = machine.nodes.length
    const used = new Array<number>(nrNodes).fill(0)
    const allocs: PageAllocs[] = []
    const checkNodes = (nodes: unknown, what: string): number[] => {
      if (!Array.isArray(nodes) || nodes.length === 0) throw einval(`${what} must list nodes`)
      for (const n of nodes) machine.node(n)
      return [...new Set(nodes as number[])]
    }
    let order: number[]
    switch (policy?.mode) {
      case 'local':
        order = machine.zonelist(
          policy.mem_node === undefined ? cpu_node : machine.node(policy.mem_node).id,
        )
        break
      case 'preferred':
        order = machine.zonelist(machine.node(policy.node).id)
        break
      case 'bind': {
        const set = checkNodes(policy.nodes, 'policy.nodes')
        order = machine.zonelist(set[0]).filter((n) => set.includes(n))
        break
      }
      case 'interleave': {
        const set = checkNodes(policy.nodes, 'policy.nodes')
        const room = set.map((n) => machine.nodes[n].free - machine.nodes[n].wmarkMin)
        // Pages per (placed, asked-for) pair of indices into set.
        const got = new Float64Array(set.length * set.length)
        let k = 0
        for (let i = 0; i < mm.nrPages; i++) {
          const asked = k
          let tries = 0
          while (room[k] <= 0 && tries++ < set.length) k = (k + 1) % set.length
          if (room[k] <= 0)
            throw new KernelError('ENOMEM', 'not enough memory on the interleave nodes')
          mm.node[i] = set[k]
          room[k]--
          used[set[k]]++
          got[k * set.length + asked]++
          k = (k + 1) % set.length
        }
        for (let j = 0; j < got.length; j++) {
          const nid = set[Math.floor(j / set.length)]
          const preferred = set[j % set.length]
          if (got[j] > 0) allocs.push({ nid, preferred, n: got[j], interleave: nid === preferred })
        }
        return { used, allocs }
      }
      default:
        throw einval('policy.mode must be local, preferred, bind or interleave')
    }
    let placed = 0
    for (const mark of ['wmarkLow', 'wmarkMin'] as const) {
      for (const n of order) {
        const node = machine.nodes[n]
        const take = Math.min(mm.nrPages - placed, Math.max(0, node.free - used[n] - node[mark]))
        mm.node.fill(n, placed, placed + take)
        used[n] += take
        placed += take
      }
    }
    if (placed < mm.nrPages) {
      throw new KernelError(
        'ENOMEM',
        `cannot place ${mm.nrPages} pages: only ${placed} free on the allowed nodes`,
      )
    }
    for (const nid of order) {
      if (used[nid] > 0) allocs.push({ nid, preferred: order[0], n: used[nid], interleave: false })
    }
    return { used, allocs }
  }

  /**
   * The node the process's task runs on: the local policy's CPU node (by default the CPU node
   * with most free memory), else the CPU node nearest the policy's first node.
   */
  private taskCpuNode(policy: PolicySpec): number {
    const { machine } = this
    const nearestCpu = (from: number) =>
      machine.zonelist(machine.node(from).id).find((n) => machine.nodes[n].cpus)!
    switch (policy?.mode) {
      case 'local': {
        const cpu_node =
          policy.cpu_node ??
          machine.nodes.filter((n) => n.cpus).sort((a, b) => b.free - a.free || a.id - b.id)[0].id
        if (!machine.node(cpu_node).cpus) throw einval(`policy.cpu_node ${cpu_node} has no cpus`)
        return cpu_node
      }
      case 'preferred':
        return nearestCpu(policy.node)
      case 'bind':
      case 'interleave':
        if (!Array.isArray(policy.nodes) || policy.nodes.length === 0)
          throw einval('policy.nodes must list nodes')
        return nearestCpu(policy.nodes[0])
      default:
        throw einval('policy.mode must be local, preferred, bind or interleave')
    }
  }

  /**
   * exit(): the last user of the mm goes; kscand forgets it (docs/spec/kscand-v3.md §7.2) and
   * its pages are freed.
   */
  exit(pid: number): void {
    const proc = this.process(pid)
    const mm = proc.mm
    mm.mm_users = 0
    this.procs.delete(pid)
    this.procList = this.procList.filter((p) => p !== proc)
    this.kscand.exit(mm, proc)
    this.numab.taskExit(proc)
    this.closedLoops.exit(proc)
    this.history.forget(pid)
    for (let n = 0; n < mm.pagesOnNode.length; n++) {
      this.machine.nodes[n].free += mm.pagesOnNode[n]
      mm.pagesOnNode[n] = 0
      mm.rateOnNode[n] = 0
    }
  }

  /** The hot set of a hotset workload moves now, as at its shiftAtMs (a scenario's `shift`). */
  shiftWorkload(pid: number): void {
    const proc = this.process(pid)
    if (proc.workload.pattern !== 'hotset') {
      throw einval(`pid ${pid} has no hot set to shift: its workload is ${proc.workload.pattern}`)
    }
    this.shiftHotSet(proc)
  }

  /** The GUPS hot-set shift: rates change, and pages whose rate changed redraw their next access. */
  private shiftHotSet(proc: Process): void {
    if (!this.procs.has(proc.pid)) return
    const mm = proc.mm
    const before = mm.rateQ.slice()
    proc.phase = 1
    assignRates(proc.workload, proc.access_rate, mm.accessedPages(), mm.rateQ, proc.seed, 1)
    const nowRel = this.sched.now - this.timeBase
    for (let i = 0; i < mm.nrPages; i++) {
      if (mm.rateQ[i] === before[i]) continue
      mm.rateOnNode[mm.node[i]] += RATE[mm.rateQ[i]] - RATE[before[i]]
      mm.nextAccess[i] = nextAccessAfter(mm, i, nowRel)
    }
  }

  /**
   * Moves one page to another node (promotion or demotion), keeping all accounting. The new
   * page is allocated on `dest` only (__GFP_THISNODE) by a thread on `cpuNode`.
   */
  movePage(mm: MmStruct, page: number, dest: number, cpuNode = dest): void {
    const src = mm.node[page]
    const nodes = this.machine.nodes
    this.vmstat.countAlloc(dest, dest, cpuNode)
    mm.node[page] = dest
    // The new PTE is built from vm_page_prot (no longer PROT_NONE), and folio_migrate_flags()
    // resets _last_cpupid across tiers.
    mm.flags[page] &= ~PTE_PROTNONE
    if (nodes[src].toptier !== nodes[dest].toptier) this.numab.folioMigrated(mm, page)
    nodes[src].free++
    nodes[dest].free--
    mm.pagesOnNode[src]--
    mm.pagesOnNode[dest]++
    const r = RATE[mm.rateQ[page]]
    mm.rateOnNode[src] -= r
    mm.rateOnNode[dest] += r
    if (mm.bins !== null && nodes[src].toptier !== nodes[dest].toptier) {
      mm.bins.top[page >>> mm.bins.shift] += nodes[dest].toptier ? 1 : -1
    }
  }

  // ---- prctl (docs/spec/kscand-v3.md §6) -------------------------------------------------

  /** prctl() of the PTE A-bit scan scale, as process `pid`. Returns the syscall result. */
  prctl(
    pid: number,
    option: number,
    arg2: bigint | number = 0,
    arg3: bigint | number = 0,
    arg4: bigint | number = 0,
    arg5: bigint | number = 0,
  ): number {
    const mm = this.process(pid).mm
    const args = [arg2, arg3, arg4, arg5].map((a, i) => {
      try {
        return BigInt.asUintN(64, BigInt(a))
      } catch {
        throw einval(`arg${i + 2} must be an integer`)
      }
    })
    if (option === PR_SET_PTE_A_SCAN_SCALE) {
      if (args[1] || args[2] || args[3])
        throw einval('PR_SET_PTE_A_SCAN_SCALE takes arg3..arg5 = 0')
      // clamp((unsigned int)arg2, MIN, MAX)
      const scale = Number(BigInt.asUintN(32, args[0]))
      mm.pte_scan_scale = Math.min(
        Math.max(scale, PR_PTE_A_SCAN_SCALE_MIN),
        PR_PTE_A_SCAN_SCALE_MAX,
      )
      return 0
    }
    if (option === PR_GET_PTE_A_SCAN_SCALE) {
      if (args.some((a) => a !== 0n)) throw einval('PR_GET_PTE_A_SCAN_SCALE takes arg2..arg5 = 0')
      return mm.pte_scan_scale
    }
    throw einval(`unsupported prctl option ${option}`)
  }

  // ---- scripted page tables ------------------------------------------------------------

  /** The process touches the page at `address` now: its PTE Accessed bit becomes set. */
  touch(pid: number, address: number): void {
    const mm = this.process(pid).mm
    const page = mm.pageOf(address)
    if (page < 0) throw einval(`address 0x${address.toString(16)} is not mapped in pid ${pid}`)
    mm.nextAccess[page] = this.sched.now - this.timeBase
  }

  /** What the page at `address` looks like: its node, folio flags and PTE Accessed bit. */
  inspectPage(pid: number, address: number): PageInfo {
    const mm = this.process(pid).mm
    const page = mm.pageOf(address)
    if (page < 0) throw einval(`address 0x${address.toString(16)} is not mapped in pid ${pid}`)
    const f = mm.flags[page]
    return {
      node: mm.node[page],
      accessed: mm.nextAccess[page] <= this.sched.now - this.timeBase,
      idle: (f & PG_IDLE) !== 0,
      young: (f & PG_YOUNG) !== 0,
      referenced: (f & PG_REFERENCED) !== 0,
      lru: (f & PG_LRU) !== 0,
      ratePerSec: RATE[mm.rateQ[page]],
    }
  }

  /**
   * Sets folio flags of one page, for scripted tests of the hot rule: PG_idle, PG_young,
   * PG_referenced, PG_lru, and the PTE Accessed bit (`accessed: false` means the next access
   * is redrawn from now, as after a test-and-clear).
   */
  setPage(
    pid: number,
    address: number,
    state: Partial<Omit<PageInfo, 'node' | 'ratePerSec'>>,
  ): void {
    const mm = this.process(pid).mm
    const page = mm.pageOf(address)
    if (page < 0) throw einval(`address 0x${address.toString(16)} is not mapped in pid ${pid}`)
    const bits = { idle: PG_IDLE, young: PG_YOUNG, referenced: PG_REFERENCED, lru: PG_LRU } as const
    for (const [k, v] of Object.entries(state)) {
      if (typeof v !== 'boolean' || !(k in bits || k === 'accessed'))
        throw einval(`bad page field ${k}`)
    }
    let f = mm.flags[page]
    for (const [k, bit] of Object.entries(bits)) {
      const v = state[k as keyof typeof bits]
      if (v !== undefined) f = v ? f | bit : f & ~bit
    }
    mm.flags[page] = f
    const nowRel = this.sched.now - this.timeBase
    if (state.accessed === true) mm.nextAccess[page] = nowRel
    if (state.accessed === false) mm.nextAccess[page] = nextAccessAfter(mm, page, nowRel)
  }

  // ---- observation ---------------------------------------------------------------------

  /** Why the mm's slow-tier pages are not promoted, or null (src/kernel/stall.ts). */
  promotionStall(mm: MmStruct): PromotionStall | null {
    return promotionStall(this, mm)
  }

  /**
   * From now on every mm, and each new one, keeps PageBins of at most `rows` rows (rows of
   * 2^shift pages, the smallest shift that fits), for an observer to read and clear.
   */
  recordPageBins(rows: number): void {
    this.binRows = checkInt('rows', rows, 1, 2 ** 20)
    for (const p of this.procList) if (p.mm.bins === null) this.addPageBins(p.mm)
  }

  private addPageBins(mm: MmStruct): void {
    let shift = 0
    while (Math.ceil(mm.nrPages / 2 ** shift) > this.binRows) shift++
    mm.bins = new PageBins(shift, mm.node, this.machine.toptier)
  }

  /** Quality metrics and placement of one process. */
  processStats(pid: number): ProcessStats {
    const proc = this.process(pid)
    const mm = proc.mm
    const quality = accessQuality(this.machine, mm)
    const q = mm.quality
    const slot = this.kscand.slotOf(mm)
    const kslot = this.kmigrated.lookup(mm)
    const task = this.numab.task(proc)
    const loop = this.closedLoops.get(proc)
    return {
      pid,
      comm: proc.comm,
      pages_per_node: Array.from(mm.pagesOnNode),
      top_tier_hit_ratio: quality ? quality.hit : null,
      mean_latency_ns: quality ? quality.latencyNs : null,
      precision: q.queued > 0 ? q.queuedHot / q.queued : null,
      recall: q.hotSlowSeen > 0 ? q.queuedHot / q.hotSlowSeen : null,
      queued: q.queued,
      promoted: q.promoted,
      demoted: q.demoted,
      pte_scan_scale: mm.pte_scan_scale,
      target_node: mm.target_node,
      scan: slot
        ? {
            scan_period: slot.scan_period,
            scan_size: slot.scan_size,
            next_scan: slot.next_scan,
            scan_delta: slot.scan_delta,
            address: slot.address,
          }
        : null,
      migration: kslot
        ? {
            pending: kslot.migrate_head.length,
            fratio: kslot.fratio,
            msuccess: kslot.msuccess,
            mfailed: kslot.mfailed,
          }
        : null,
      numa:
        task && task.scans > 0
          ? {
              numa_scan_seq: task.mm_numa_scan_seq,
              numa_scan_period: task.numa_scan_period,
              numa_scan_offset: task.numa_scan_offset,
              numa_pages_migrated: task.numa_pages_migrated,
              numa_preferred_nid: task.numa_preferred_nid,
              scan_ns: task.scan_ns,
              fault_ns: task.fault_ns,
            }
          : null,
      closed_loop: loop
        ? {
            ...loop.spec,
            done: loop.done,
            stalled_ns: loop.stalled_ns,
            finished_at: loop.finished_at,
            time_to_finish_ms: loop.time_to_finish_ms,
          }
        : null,
      stall: this.promotionStall(mm),
    }
  }
}

export interface PageInfo {
  node: number
  accessed: boolean
  idle: boolean
  young: boolean
  referenced: boolean
  lru: boolean
  ratePerSec: number
}

export interface ProcessStats {
  pid: number
  comm: string
  pages_per_node: number[]
  /** Access-weighted share of accesses served by top-tier nodes. */
  top_tier_hit_ratio: number | null
  /** Access-weighted mean load latency over the nodes' modelled latencies. */
  mean_latency_ns: number | null
  /** Share of queued slow-tier pages that were truly hot (ground truth). */
  precision: number | null
  /** Share of truly hot slow-tier pages kscand examined that it queued. */
  recall: number | null
  queued: number
  promoted: number
  demoted: number
  pte_scan_scale: number
  target_node: number
  scan: {
    scan_period: number
    scan_size: number
    next_scan: number
    scan_delta: number
    address: number
  } | null
  migration: { pending: number; fratio: number; msuccess: number; mfailed: number } | null
  /** The NUMA-balancing fields of its task, once it scanned. */
  numa: {
    numa_scan_seq: number
    numa_scan_period: number
    numa_scan_offset: number
    numa_pages_migrated: number
    numa_preferred_nid: number
    /** CPU time the task spent in task_numa_work, and in hint faults with their migrations (ns). */
    scan_ns: number
    fault_ns: number
  } | null
  closed_loop: {
    threads: number
    think_ns: number
    accesses: number
    done: number
    stalled_ns: number
    finished_at: number | null
    time_to_finish_ms: number | null
  } | null
  /** Why its pages are not being promoted, when they are not. */
  stall: PromotionStall | null
}
