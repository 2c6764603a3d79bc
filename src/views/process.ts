/**
 * How a simulated process looks from outside: the pid in a URL, the summary and detail
 * objects of /processes, and /proc/PID/status with the `PTEAScanScale:` line of V3
 * (docs/spec/kscand-v3.md §4.2).
 */
import { PAGE_SIZE } from '../kernel/constants.ts'
import { KernelError } from '../kernel/errors.ts'
import type { Kernel } from '../kernel/kernel.ts'
import type { Process } from '../kernel/mm.ts'
import type { Kthread } from '../kernel/sched.ts'
import type { PolicySpec, VmaKind } from '../kernel/spec.ts'
import type { PromotionStall as KernelStall } from '../kernel/stall.ts'
import type { ProcessDetail, ProcessSummary, PromotionStall } from '../schemas/processes.ts'
import { rangeList } from '../sysfs/file.ts'
import { DEMOTION_ENABLED, quirkPath, SCAN_ENABLED } from '../sysfs/table.ts'

/** The process a URL's pid names; anything but a known decimal pid is ESRCH. */
export function lookupProcess(kernel: Kernel, pid: string): Process {
  if (!/^[1-9]\d{0,9}$/.test(pid)) throw new KernelError('ESRCH', `no such process: ${pid}`)
  return kernel.process(Number(pid))
}

/** The switch that ends a stall: in words, and as an HTTP request to this daemon (or null). */
interface Remedy {
  remedy: string
  remedy_request: PromotionStall['remedy_request']
}

/** Writing `value` to a sysfs file (PUT, as `echo value > file`). */
const write = (path: string, value: string, note = ''): Remedy => ({
  remedy: `write ${value} to ${path}${note}`,
  remedy_request: { method: 'PUT', path, body: value },
})

/** An action route (an empty POST). */
const post = (path: string): Remedy => ({
  remedy: `POST ${path}`,
  remedy_request: { method: 'POST', path, body: null },
})

/** The kernel's diagnosis of a stalled promotion, in words, with the switch that ends it. */
export function stallView(
  kernel: Kernel,
  pid: number,
  stall: KernelStall | null,
): PromotionStall | null {
  if (!stall) return null
  const sticky = write(quirkPath('kmigrated_sticky_slot'), '0', ' (kmigrated goes round-robin)')
  const { pending } = stall
  const text = (reason: string, remedy: Remedy | null) => ({
    ...stall,
    reason,
    remedy: remedy?.remedy ?? null,
    remedy_request: remedy?.remedy_request ?? null,
  })
  switch (stall.cause) {
    case 'kmigrated_stopped':
      return text(
        `kmigrated is stopped: ${pending} pages wait on the migration list`,
        post('/threads/kmigrated/start'),
      )
    case 'sticky_slot': {
      const servicing = stall.servicing as number
      return text(
        `kmigrated drains only pid ${servicing} (${kernel.process(servicing).comm}), the first mm that ` +
          `got a migration list, until it exits (V3 quirk 4, faithful): ${pending} pages wait`,
        sticky,
      )
    }
    case 'target_node_full': {
      const node = kernel.machine.nodes[stall.node as number]
      const demotion = kernel.demotion_enabled
      return text(
        `target node ${node.id} is at its high watermark (${node.free} pages free, high ` +
          `${node.wmarkHigh}): promotions fail with rc 11 ` +
          (demotion ? 'until kswapd demotes' : 'and demotion is off') +
          failureFeedback(stall.fratio),
        demotion ? null : write(DEMOTION_ENABLED, '1'),
      )
    }
    case 'kscand_stopped':
      return text(
        'kscand is stopped: no scan finds its hot slow-tier pages',
        post('/threads/kscand/start'),
      )
    case 'scan_disabled':
      return text(
        'scan_enabled is 0: kscand waits, and no scan finds its hot slow-tier pages',
        write(SCAN_ENABLED, '1'),
      )
    case 'scan_scale_zero':
      return text('its pte_scan_scale is 0 (PR_SET_PTE_A_SCAN_SCALE): kscand skips the mm', {
        remedy: `prctl(PR_SET_PTE_A_SCAN_SCALE, 8) as the process: POST /processes/${pid}/prctl`,
        remedy_request: null,
      })
    case 'migrate_info_full':
      return text(
        `kscand can queue none of its pages: all ${kernel.maxMigrateInfo} ` +
          'kscand_migrate_info entries are taken (GFP_NOWAIT fails)',
        kernel.quirks.kmigrated_sticky_slot ? sticky : null,
      )
  }
}

/**
 * The failure feedback of patch 11 (docs/spec/kscand-v3.md §7.11): each full 10 % of the
 * mm's fratio adds one more scan_period.
 */
function failureFeedback(fratio: number): string {
  const factor = 1 + Math.floor(fratio / 10)
  return factor > 1 ? `; its fratio of ${fratio} % stretches its scan_period ×${factor}` : ''
}

export function processSummary(kernel: Kernel, p: Process): ProcessSummary {
  const s = kernel.processStats(p.pid)
  return {
    pid: p.pid,
    ppid: p.parent,
    comm: p.comm,
    started_at: p.started_at,
    workload: p.workload,
    pages: p.mm.nrPages,
    pages_per_node: s.pages_per_node,
    pte_scan_scale: s.pte_scan_scale,
    top_tier_hit_ratio: s.top_tier_hit_ratio,
    stall: stallView(kernel, p.pid, s.stall),
  }
}

export function processDetail(kernel: Kernel, p: Process): ProcessDetail {
  const { pid: _pid, comm: _comm, stall: _stall, ...s } = kernel.processStats(p.pid)
  return { ...processSummary(kernel, p), ...s, access_rate: p.access_rate }
}

const KB = PAGE_SIZE / 1024
const RSS_KIND: Partial<Record<VmaKind, 'anon' | 'file' | 'shmem'>> = {
  anon: 'anon',
  mlocked: 'anon',
  file: 'file',
  file_ro: 'file',
  shared: 'shmem',
}

/** /proc/PID/status fields, in the kernel's order; sizes in kB. */
export function processStatus(kernel: Kernel, p: Process): Record<string, string | number> {
  const kb = (pred: (kind: VmaKind) => boolean) =>
    p.mm.vmas.filter((v) => pred(v.kind)).reduce((sum, v) => sum + v.nrPages * KB, 0)
  const anon = kb((k) => RSS_KIND[k] === 'anon')
  const file = kb((k) => RSS_KIND[k] === 'file')
  const shmem = kb((k) => RSS_KIND[k] === 'shmem')
  const size = kb(() => true)
  const rss = anon + file + shmem
  return {
    Name: p.comm,
    Umask: '0022',
    State: p.workload.pattern === 'idle' ? 'S (sleeping)' : 'R (running)',
    Tgid: p.pid,
    Ngid: 0,
    Pid: p.pid,
    PPid: p.parent ?? 1,
    TracerPid: 0,
    Uid: '0\t0\t0\t0',
    Gid: '0\t0\t0\t0',
    FDSize: 64,
    Groups: '',
    // CONFIG_PID_NS: the ids in each pid namespace; the process leads its own group and session.
    NStgid: p.pid,
    NSpid: p.pid,
    NSpgid: p.pid,
    NSsid: p.pid,
    Kthread: 0,
    VmPeak: size,
    VmSize: size,
    VmLck: kb((k) => k === 'mlocked'),
    VmPin: 0,
    VmHWM: rss,
    VmRSS: rss,
    RssAnon: anon,
    RssFile: file,
    RssShmem: shmem,
    VmData: anon,
    VmStk: 132,
    VmExe: 0,
    VmLib: kb((k) => k === 'file_ro'),
    VmPTE: Math.ceil((p.mm.nrPages * 8) / 1024),
    VmSwap: 0,
    PTEAScanScale: p.mm.pte_scan_scale,
    Threads: p.spec.closed_loop?.threads ?? 1,
    Mems_allowed_list: rangeList(kernel.machine.nodes.map((n) => n.id)),
    ...closedLoopStatus(kernel, p),
  }
}

/** Extension lines of a closed-loop process: its budget and, once spent, its time to finish. */
function closedLoopStatus(kernel: Kernel, p: Process): Record<string, string> {
  const loop = kernel.closedLoops.get(p)
  if (!loop) return {}
  return {
    Accesses: `${Math.floor(loop.done)}/${loop.spec.accesses}`,
    TimeToFinish: loop.time_to_finish_ms === null ? '-' : `${loop.time_to_finish_ms.toFixed(3)} ms`,
  }
}

/** mpol_to_str() of a placement policy. */
function mpolToStr(policy: PolicySpec | undefined): string {
  switch (policy?.mode) {
    case 'preferred':
      return `prefer:${policy.node}`
    case 'bind':
      return `bind:${rangeList([...new Set(policy.nodes)].sort((a, b) => a - b))}`
    case 'interleave':
      return `interleave:${rangeList([...new Set(policy.nodes)].sort((a, b) => a - b))}`
    default:
      return 'default'
  }
}

export interface NumaMapsEntry {
  start: string
  policy: string
  file: string | null
  anon: number
  dirty: number
  mapped: number
  mapmax: number
  nodes: Record<string, number>
  kernelpagesize_kB: number
}

/**
 * /proc/PID/numa_maps, one entry per VMA as fs/proc/task_mmu.c show_numa_map() gathers it.
 * The policy is the VMA's own (__get_vma_policy()): `default` for every VMA of a process
 * placed by a task policy (numactl), the process's policy for an mbind VMA. Anonymous and
 * mlocked pages are anon and dirty, file and shmem pages mapped (shmem by two: mapmax=2);
 * VM_IO/VM_PFNMAP VMAs have no pages the walk counts. The simulation keeps no active/inactive
 * LRU, so no `active=` is printed (as when every page is active).
 */
export function numaMaps(kernel: Kernel, p: Process): NumaMapsEntry[] {
  const { mm } = p
  return mm.vmas.map((v, i) => {
    const counted = v.kind !== 'io' && v.kind !== 'mixedmap'
    const perNode = new Array<number>(kernel.machine.nodes.length).fill(0)
    if (counted) for (let pg = v.first; pg < v.first + v.nrPages; pg++) perNode[mm.node[pg]]++
    const pages = counted ? v.nrPages : 0
    const anon = RSS_KIND[v.kind] === 'anon' ? pages : 0
    return {
      start: v.start.toString(16).padStart(8, '0'),
      policy: v.mbind ? mpolToStr(p.spec.policy) : 'default',
      file: RSS_KIND[v.kind] === 'file' ? `/kscand-sim/${p.comm}.${i}` : null,
      anon,
      dirty: anon,
      mapped: pages,
      mapmax: v.kind === 'shared' ? 2 : 1,
      nodes: Object.fromEntries(
        perNode.flatMap((n, nid) => (n > 0 ? [[`N${nid}`, n] as const] : [])),
      ),
      kernelpagesize_kB: PAGE_SIZE / 1024,
    }
  })
}

/** The numa_maps text: show_numa_map()'s fields, each only when the kernel prints it. */
export function formatNumaMaps(entries: readonly NumaMapsEntry[]): string {
  return entries
    .map((e) => {
      let s = `${e.start} ${e.policy}`
      if (e.file) s += ` file=${e.file}`
      if (e.mapped > 0) {
        if (e.anon) s += ` anon=${e.anon}`
        if (e.dirty) s += ` dirty=${e.dirty}`
        if (e.mapped !== e.anon && e.mapped !== e.dirty) s += ` mapped=${e.mapped}`
        if (e.mapmax > 1) s += ` mapmax=${e.mapmax}`
        for (const [n, count] of Object.entries(e.nodes)) s += ` ${n}=${count}`
        s += ` kernelpagesize_kB=${e.kernelpagesize_kB}`
      }
      return `${s}\n`
    })
    .join('')
}

/**
 * get_task_state() of a kernel thread (docs/spec/kernel-interfaces.md §7.4): R while it runs
 * or busy-spins; D in msleep() or wait_event_timeout() (TASK_UNINTERRUPTIBLE: kscand's and
 * kmigrated's sleeps); S in an interruptible wait (kswapd's).
 */
function kthreadState(t: Kthread): string {
  if (t.state === 'running' || t.spinningSince !== null) return 'R (running)'
  const w = t.waitingOn
  if (w?.kind === 'sleep' || (w?.kind === 'wait' && w.uninterruptible)) return 'D (disk sleep)'
  return 'S (sleeping)'
}

/** kthreadd, the parent of every kernel thread. */
const KTHREADD_PID = 2

/**
 * /proc/PID/status of a kernel thread, as fs/proc/array.c prints it for a task without an
 * mm (docs/spec/kernel-interfaces.md §7.4): `Kthread: 1`, PPid 2 (kthreadd), process group
 * and session 0, and no Vm*, Rss* or PTEAScanScale lines.
 */
export function kthreadStatus(kernel: Kernel, t: Kthread): Record<string, string | number> {
  return {
    Name: t.comm,
    Umask: '0000',
    State: kthreadState(t),
    Tgid: t.pid,
    Ngid: 0,
    Pid: t.pid,
    PPid: KTHREADD_PID,
    TracerPid: 0,
    Uid: '0\t0\t0\t0',
    Gid: '0\t0\t0\t0',
    FDSize: 64,
    Groups: '',
    NStgid: t.pid,
    NSpid: t.pid,
    NSpgid: 0,
    NSsid: 0,
    Kthread: 1,
    Threads: 1,
    Mems_allowed_list: rangeList(kernel.machine.nodes.map((n) => n.id)),
  }
}

const SIZE_FIELDS = /^(Vm|Rss)/

/** The text: sizes as `%8lu kB`, PTEAScanScale right-aligned in width 8, the rest as is. */
export function formatStatus(fields: Record<string, string | number>): string {
  let s = ''
  for (const [key, v] of Object.entries(fields)) {
    if (SIZE_FIELDS.test(key)) s += `${key}:\t${String(v).padStart(8)} kB\n`
    else if (key === 'PTEAScanScale') s += `${key}:\t${String(v).padStart(8)}\n`
    else s += `${key}:\t${v}\n`
  }
  return s
}
