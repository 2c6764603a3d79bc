/**
 * A scenario's timeline commands, applied to a kernel at their virtual time through the same
 * calls the HTTP routes make: the sysfs table's stores (routes/files.ts), kernel.exec, fork,
 * exit and prctl (routes/processes.ts), the thread transitions (routes/threads.ts). Each
 * accepted command emits the `sysfs:sysfs_write` event the route would (http/audit.ts), so a
 * scenario's trace reads like the live session's; a `note` emits only that event (a write
 * of the clock or tracefs, recorded for it: http/recording.ts). A rejected command throws,
 * nothing having changed, as the kernel's commands do.
 */

import type { z } from 'zod'
import { traceWrite } from '../http/audit.ts'
import { PR_GET_PTE_A_SCAN_SCALE, PR_SET_PTE_A_SCAN_SCALE } from '../kernel/constants.ts'
import { KernelError } from '../kernel/errors.ts'
import type { Kernel } from '../kernel/kernel.ts'
import type { Process } from '../kernel/mm.ts'
import type { PrctlRequest } from '../schemas/processes.ts'
import type { Command } from '../schemas/scenario.ts'
import type { SysfsFile } from '../sysfs/file.ts'
import { writtenText } from '../sysfs/written.ts'

const PRCTL_OPTIONS = { PR_SET_PTE_A_SCAN_SCALE, PR_GET_PTE_A_SCAN_SCALE } as const

/** A process as the write events name it: `pid=1000 comm=memcached`. */
export const describeProcess = (p: Process) => `pid=${p.pid} comm=${p.comm}`

/** What an accepted write changed, as the write event names it. */
export interface Written {
  readonly path: string
  readonly old: string
  readonly next: string
}

/**
 * prctl() as POST /processes/PID/prctl takes it (options by name or number, arguments as
 * numbers or decimal strings). A scale set is a write; the caller logs or traces it.
 */
export function prctl(
  kernel: Kernel,
  p: Process,
  body: z.infer<typeof PrctlRequest>,
): { result: number; written: Written | null } {
  const { option, arg2, arg3, arg4, arg5 } = body
  const args = [arg2, arg3, arg4, arg5].map((a) => (typeof a === 'string' ? BigInt(a) : (a ?? 0)))
  const code = typeof option === 'string' ? PRCTL_OPTIONS[option] : option
  const old = String(p.mm.pte_scan_scale)
  const result = kernel.prctl(p.pid, code, ...(args as [bigint, bigint, bigint, bigint]))
  const path = `/processes/${p.pid}/pte_scan_scale`
  const written =
    code === PR_SET_PTE_A_SCAN_SCALE ? { path, old, next: String(p.mm.pte_scan_scale) } : null
  return { result, written }
}

/** The process a command names: a pid, or the live process with that comm and the lowest pid. */
export function target(kernel: Kernel, which: number | string): Process {
  if (typeof which === 'number') return kernel.process(which)
  const p = kernel.processList().find((x) => x.comm === which)
  if (!p) throw new KernelError('ESRCH', `no process with comm ${which}`)
  return p
}

/** echo VALUE > PATH through the file's store, as PUT PATH does. */
function write(kernel: Kernel, files: readonly SysfsFile[], path: string, value: unknown): void {
  const f = files.find((x) => x.path === path)
  if (!f) throw new KernelError('ENOENT', `no such file: ${path}`)
  if (!f.write) throw new KernelError('EACCES', `${path} is read-only (mode 0444)`)
  const text = writtenText({ value })
  const old = f.show()
  f.write(text)
  traceWrite(kernel, path, old.trimEnd(), f.show().trimEnd())
}

/** Applies one command now; throws a KernelError when the kernel refuses it. */
export function applyCommand(kernel: Kernel, files: readonly SysfsFile[], c: Command): void {
  switch (c.do) {
    case 'write':
      write(kernel, files, c.path, c.value)
      return
    case 'prctl': {
      const { at_ms: _at, do: _do, process, ...body } = c
      const { written } = prctl(kernel, target(kernel, process), body)
      if (written) traceWrite(kernel, written.path, written.old, written.next)
      return
    }
    case 'start':
    case 'stop': {
      const before = kernel.thread(c.thread).state
      const changed =
        c.do === 'start' ? kernel.startThread(c.thread) : kernel.stopThreadFromUser(c.thread)
      if (changed) traceWrite(kernel, `/threads/${c.thread}`, before, kernel.thread(c.thread).state)
      return
    }
    case 'spawn': {
      const p = kernel.exec(c.spec)
      traceWrite(kernel, '/processes', '-', describeProcess(p))
      return
    }
    case 'fork': {
      const parent = target(kernel, c.process)
      const child = kernel.fork(parent.pid)
      traceWrite(kernel, `/processes/${parent.pid}/fork`, '-', describeProcess(child))
      return
    }
    case 'exit': {
      const p = target(kernel, c.process)
      kernel.exit(p.pid)
      traceWrite(kernel, `/processes/${p.pid}`, describeProcess(p), 'exited')
      return
    }
    case 'shift': {
      const p = target(kernel, c.process)
      kernel.shiftWorkload(p.pid)
      traceWrite(kernel, `/processes/${p.pid}/workload`, 'hot set', 'shifted')
      return
    }
    case 'note':
      traceWrite(kernel, c.path, c.old, c.new)
      return
  }
}
