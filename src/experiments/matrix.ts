/**
 * A scenario's matrix (docs/experiments.md §9) expanded into its cells: the cartesian product
 * of the keys' values, the first key varying slowest, each value in the order written. A cell
 * is the base scenario with its values set at boot: a file key (a writable sysfs/procfs path,
 * or a unique tail of one with `.` for `/`) and `policy` (numa_balancing, and kscand's
 * scan_enabled 0 when kscand is not in it) become machine.tunables, applied as the daemon's config file applies them,
 * before the boot's processes start; `seed` replaces the seed. A cell is thus a plain
 * scenario, written beside its outputs as scenario.json, and `kscand-sim run` of that file
 * gives the same outputs. Every value is tried on a probe kernel first, so a bad one is one
 * line naming the key before anything runs.
 */
import { Kernel } from '../kernel/kernel.ts'
import { DEFAULT_TOPOLOGY } from '../kernel/machine.ts'
import { type Matrix, POLICIES, type Policy, type Scenario } from '../schemas/scenario.ts'
import { sysfsTable } from '../sysfs/table.ts'
import { writtenText } from '../sysfs/written.ts'
import { ScenarioError } from './load.ts'

const NUMA_BALANCING = '/proc/sys/kernel/numa_balancing'
const SCAN_ENABLED = '/sys/kernel/mm/kscand/scan_enabled'

type Value = string | number | boolean

export interface Cell {
  /** Its place in the product, from 0. */
  readonly index: number
  /** `policy=kscand,scan_sleep_ms=20`: the keys as written, in the matrix's order. */
  readonly id: string
  /** Its folder under cells/: the id with `%` and `/` escaped (%25, %2F). */
  readonly dir: string
  readonly values: readonly (readonly [key: string, value: Value])[]
  /** The base scenario with the cell's values, and no matrix. */
  readonly scenario: Scenario
}

/** The tunables a key's value sets, by path; undefined: the boot's default, not written. */
type Setter = (v: Value) => Record<string, Value | undefined>

/** The writable file a key names: its path, or the one path ending in the key's tail. */
function resolveFile(key: string, writable: readonly string[], fail: (why: string) => never) {
  if (key.startsWith('/')) {
    return writable.includes(key) ? key : fail('not a writable sysfs or procfs file')
  }
  const tail = `/${key.split('.').join('/')}`
  const found = writable.filter((p) => p.endsWith(tail))
  if (found.length === 1) return found[0]
  return found.length === 0
    ? fail('names no writable sysfs or procfs file (give its path, or a tail of it)')
    : fail(`names ${found.length} files (${found.join(', ')}): give the path`)
}

/** The cells of a scenario's matrix; `source` names the file in messages. */
export function expandMatrix(scenario: Scenario & { matrix: Matrix }, source: string): Cell[] {
  const { matrix, ...base } = scenario
  let kernel: Kernel
  try {
    kernel = new Kernel({ seed: 0, topology: scenario.machine.topology ?? DEFAULT_TOPOLOGY })
  } catch (err) {
    throw new ScenarioError(`${source}: machine.topology: ${(err as Error).message}`)
  }
  const probe = sysfsTable(kernel)
  const writable = probe.filter((f) => f.write).map((f) => f.path)
  const keys = Object.entries(matrix) as [string, Value[]][]
  const owner = new Map<string, string>()
  const setters = keys.map(([key, values]): Setter => {
    const fail = (why: string): never => {
      throw new ScenarioError(`${source}: matrix.${key}: ${why}`)
    }
    if (key === 'seed') return () => ({})
    const paths =
      key === 'policy' ? [NUMA_BALANCING, SCAN_ENABLED] : [resolveFile(key, writable, fail)]
    for (const p of paths) {
      const other = owner.get(p)
      if (other !== undefined) fail(`sets ${p}, as matrix.${other} does`)
      owner.set(p, key)
    }
    if (key === 'policy') {
      // kscand scans from boot: a policy with it leaves scan_enabled unwritten (a write of 1
      // would wake kscand at once), one without it writes 0.
      return (v) => {
        const p = POLICIES[v as Policy]
        return { [NUMA_BALANCING]: p.numa_balancing, [SCAN_ENABLED]: p.kscand ? undefined : 0 }
      }
    }
    const file = probe.find((f) => f.path === paths[0])!
    values.forEach((v, i) => {
      try {
        file.write!(writtenText({ value: v }))
      } catch (err) {
        throw new ScenarioError(`${source}: matrix.${key}[${i}]: ${v}: ${(err as Error).message}`)
      }
    })
    return (v) => ({ [paths[0]]: v })
  })
  const cells: Cell[] = []
  const total = keys.reduce((n, [, values]) => n * values.length, 1)
  for (let index = 0; index < total; index++) {
    // The first key varies slowest: the index in mixed radix, its last digit the last key's.
    let rest = index
    const picks = new Array<number>(keys.length)
    for (let k = keys.length - 1; k >= 0; k--) {
      picks[k] = rest % keys[k][1].length
      rest = Math.floor(rest / keys[k][1].length)
    }
    const values = keys.map(([key, vs], k) => [key, vs[picks[k]]] as const)
    const tunables: Record<string, Value> = { ...base.machine.tunables }
    for (const [k, [, v]] of values.entries()) {
      for (const [path, set] of Object.entries(setters[k](v))) {
        if (set === undefined) delete tunables[path]
        else tunables[path] = set
      }
    }
    const seed = values.find(([key]) => key === 'seed')?.[1] as number | undefined
    const id = values.map(([key, v]) => `${key}=${v}`).join(',')
    cells.push({
      index,
      id,
      dir: id.replaceAll('%', '%25').replaceAll('/', '%2F'),
      values,
      scenario: { ...base, seed: seed ?? base.seed, machine: { ...base.machine, tunables } },
    })
  }
  return cells
}

/** `--shard I/N`: the cells with index % N == I − 1. */
export function shardCells(cells: readonly Cell[], shard: Shard | null): Cell[] {
  return shard === null
    ? [...cells]
    : cells.filter((c) => c.index % shard.count === shard.index - 1)
}

export interface Shard {
  /** From 1 to count. */
  readonly index: number
  readonly count: number
}

/** `I/N` with 1 ≤ I ≤ N ≤ MAX_SHARDS; throws the one line to print. */
export function parseShard(text: string): Shard {
  const m = /^(\d{1,6})\/(\d{1,6})$/.exec(text)
  const index = m ? Number(m[1]) : 0
  const count = m ? Number(m[2]) : 0
  if (!m || index < 1 || index > count) {
    throw new ScenarioError(`--shard ${text}: give I/N with 1 ≤ I ≤ N (--shard 2/4)`)
  }
  return { index, count }
}
