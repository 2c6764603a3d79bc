/**
 * npm run compare [-- file.json …]: runs each config file (as CONFIG_FILE takes it; default
 * examples/abench.json and examples/cbench.json) in-process and headless under four
 * promotion policies — NUMAB2 alone, kscand alone, NUMAB1 + kscand, neither — until every
 * closed-loop process has spent its budget, and prints each one's time to finish.
 */
import { fileURLToPath } from 'node:url'
import { loadMachineConfig } from '../src/daemon/config.ts'
import { Kernel } from '../src/kernel/kernel.ts'
import { sysfsTable } from '../src/sysfs/table.ts'
import { writtenText } from '../src/sysfs/written.ts'

export const POLICIES = [
  { name: 'NUMAB2', numaBalancing: 2, kscand: false },
  { name: 'kscand', numaBalancing: 0, kscand: true },
  { name: 'NUMAB1 + kscand', numaBalancing: 1, kscand: true },
  { name: 'none', numaBalancing: 0, kscand: false },
] as const

/** Virtual time after which a run is given up (ms). */
const LIMIT_MS = 3_600_000

export interface Result {
  readonly policy: string
  readonly comm: string
  /** Virtual seconds to spend the budget, or null when it did not within the limit. */
  readonly seconds: number | null
  readonly promoted: number
  readonly hintFaults: number
  /** Thread time lost to NUMA balancing in the task (s). */
  readonly stalledS: number
}

export function runPolicy(path: string, policy: (typeof POLICIES)[number], seed = 1): Result[] {
  const machine = loadMachineConfig(path)
  const k = new Kernel({ seed, topology: machine.topology, numaBalancing: policy.numaBalancing })
  const files = new Map(sysfsTable(k).map((f) => [f.path, f]))
  for (const [p, value] of Object.entries(machine.tunables))
    files.get(p)?.write?.(writtenText({ value }))
  if (!policy.kscand) k.stopThread('kscand')
  const procs = machine.processes.map((spec) => k.exec(spec))
  const loops = procs.filter((p) => k.closedLoops.get(p))
  while (k.now < LIMIT_MS && loops.some((p) => k.closedLoops.get(p)!.finished_at === null))
    k.run(k.now + 1000)
  return loops.map((p) => {
    const loop = k.closedLoops.get(p)!
    return {
      policy: policy.name,
      comm: p.comm,
      seconds: loop.time_to_finish_ms === null ? null : loop.time_to_finish_ms / 1000,
      promoted: k.vmstat.get('pgpromote_success'),
      hintFaults: k.vmstat.get('numa_hint_faults'),
      stalledS: loop.stalled_ns / 1e9,
    }
  })
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2)
  const paths = args.length > 0 ? args : ['examples/abench.json', 'examples/cbench.json']
  console.log(
    '| config | process | policy | time to finish (s) | vs none | pgpromote_success | numa_hint_faults | stalled thread-s |',
  )
  console.log('|---|---|---|---|---|---|---|---|')
  for (const path of paths) {
    const rows = POLICIES.flatMap((p) => runPolicy(path, p))
    for (const r of rows) {
      const none = rows.find((x) => x.policy === 'none' && x.comm === r.comm)?.seconds
      const vs =
        r.seconds !== null && none ? `${(((r.seconds - none) / none) * 100).toFixed(1)} %` : '—'
      console.log(
        `| ${path} | ${r.comm} | ${r.policy} | ${r.seconds?.toFixed(2) ?? 'not done'} | ${vs} | ${r.promoted} | ${r.hintFaults} | ${r.stalledS.toFixed(3)} |`,
      )
    }
  }
}
