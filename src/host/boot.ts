/**
 * Boot: the simulated machine as configured, then the state file on top. The order is the
 * one a kernel boots in: the topology, the boot-time tunables of the config file (as
 * /etc/sysfs.d applies them), then either the saved run-time state (tunables, stopped
 * threads, processes) or, with no state file yet, the config file's processes.
 *
 * Anything that cannot be applied stops the boot with a BootError naming the file and key.
 */
import { PR_SET_PTE_A_SCAN_SCALE } from '../kernel/constants.ts'
import { DEMO_PROCESSES } from '../kernel/demo.ts'
import { Kernel } from '../kernel/kernel.ts'
import { DEFAULT_TOPOLOGY, type TopologySpec } from '../kernel/machine.ts'
import type { ProcessSpec } from '../kernel/spec.ts'
import type { ConfigFile } from '../schemas/machine.ts'
import type { SysfsFile } from '../sysfs/file.ts'
import { sysfsTable } from '../sysfs/table.ts'
import { writtenText } from '../sysfs/written.ts'
import { Persistence } from './persist.ts'
import { type MachineState, StateFile, StateFileError } from './state-file.ts'

/** The machine a boot builds (the config file describes it, config.ts reads it). */
export interface MachineConfig {
  readonly topology: TopologySpec
  readonly processes: readonly ProcessSpec[]
  /** Boot-time values of writable sysfs files, by path. */
  readonly tunables: Readonly<Record<string, string | number | boolean>>
}

/** The machine a config file's object describes; an absent key is the demo machine's. */
export function machineConfig(file: ConfigFile): MachineConfig {
  return {
    topology: file.topology ?? DEFAULT_TOPOLOGY,
    processes: file.processes ?? DEMO_PROCESSES,
    tunables: file.tunables ?? {},
  }
}

export interface BootOptions {
  readonly seed: number
  readonly machine: MachineConfig
  /** Where the config came from, for messages (`config file /etc/x.json`). */
  readonly machineSource: string
  readonly stateFile?: string
  /** What to do with a state file that does not parse or validate. */
  readonly onCorrupt: 'refuse' | 'move-aside'
  /** MAX_PROCESSES and MAX_VMAS (default: the most the state file restores). */
  readonly limits?: { readonly maxProcesses: number; readonly maxVmas: number }
  /** HISTORY_SECONDS and HISTORY_PROCESSES (default: the kernel's). */
  readonly history?: { readonly historySeconds: number; readonly historyProcesses: number }
}

export interface Booted {
  readonly kernel: Kernel
  /** The kernel's sysfs table: the one boot wrote through, for the app to serve. */
  readonly files: readonly SysfsFile[]
  readonly persistence: Persistence | null
  /** What the boot did with the state file, for the log. */
  readonly state: 'none' | 'new' | 'restored' | { movedAside: string }
}

/** A boot that cannot go on; the message is the one line the process prints. */
export class BootError extends Error {
  override name = 'BootError'
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

/** Applies `where[key]` through the store of the sysfs file, as an HTTP write would. */
function applyTunables(
  files: readonly SysfsFile[],
  values: MachineConfig['tunables'],
  where: string,
): void {
  for (const [path, value] of Object.entries(values)) {
    const f = files.find((file) => file.path === path)
    if (!f?.write) {
      throw new BootError(`${where}["${path}"]: not a writable sysfs file of this machine`)
    }
    try {
      f.write(writtenText({ value }))
    } catch (err) {
      throw new BootError(`${where}["${path}"]: ${describe(err)}`)
    }
  }
}

function spawn(kernel: Kernel, spec: ProcessSpec, where: string): number {
  try {
    return kernel.exec(spec).pid
  } catch (err) {
    throw new BootError(`${where}: ${describe(err)}`)
  }
}

function restore(
  kernel: Kernel,
  files: readonly SysfsFile[],
  state: MachineState,
  where: string,
): void {
  applyTunables(files, state.tunables, `${where}: tunables`)
  for (const [name, wanted] of Object.entries(state.threads)) {
    if (wanted === 'running') continue
    try {
      kernel.stopThread(name)
    } catch (err) {
      throw new BootError(`${where}: threads.${name}: ${describe(err)}`)
    }
  }
  state.processes.forEach((p, i) => {
    const pid = spawn(kernel, p.spec, `${where}: processes[${i}]`)
    kernel.prctl(pid, PR_SET_PTE_A_SCAN_SCALE, p.pte_scan_scale)
  })
}

export function boot(opts: BootOptions): Booted {
  let kernel: Kernel
  try {
    kernel = new Kernel({
      seed: opts.seed,
      topology: opts.machine.topology,
      ...opts.limits,
      ...opts.history,
    })
  } catch (err) {
    throw new BootError(`${opts.machineSource}: topology: ${describe(err)}`)
  }
  const files = sysfsTable(kernel)
  applyTunables(files, opts.machine.tunables, `${opts.machineSource}: tunables`)
  const execConfigured = () =>
    opts.machine.processes.forEach((p, i) => {
      spawn(kernel, p, `${opts.machineSource}: processes[${i}]`)
    })
  if (opts.stateFile === undefined) {
    execConfigured()
    return { kernel, files, persistence: null, state: 'none' }
  }

  const file = new StateFile(opts.stateFile)
  const persistence = new Persistence(file, kernel, files)
  let saved: MachineState | null
  let movedAside: string | null = null
  try {
    saved = file.load()
  } catch (err) {
    if (!(err instanceof StateFileError)) throw err
    if (err.kind !== 'corrupt' || opts.onCorrupt !== 'move-aside') {
      const fix =
        err.kind === 'corrupt'
          ? 'fix or remove it, or set STATE_FILE_ON_CORRUPT=move-aside to start afresh'
          : err.kind === 'unreadable'
            ? 'check its permissions'
            : 'STATE_FILE must name a regular file'
      throw new BootError(`${err.message}; ${fix}`)
    }
    movedAside = file.moveAside()
    saved = null
  }
  if (saved) {
    // A saved state is restored whole, even one a little past the budget admit() keeps
    // (a hand-edited file the loader took): the final size check still guards each save.
    restore(kernel, files, saved, `state file ${opts.stateFile}`)
    for (const path of Object.keys(saved.tunables)) persistence.written.add(path)
  } else {
    execConfigured()
  }
  kernel.admitProcess = (spec) => persistence.admit(spec)
  // Written even when it holds this state already: an unwritable path fails the boot.
  try {
    persistence.save(true)
  } catch (err) {
    throw new BootError(`state file ${opts.stateFile} cannot be written: ${describe(err)}`)
  }
  return {
    kernel,
    files,
    persistence,
    state: movedAside ? { movedAside } : saved ? 'restored' : 'new',
  }
}
