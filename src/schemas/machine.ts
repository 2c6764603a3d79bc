/**
 * The simulated machine as a file describes it: the topology, the processes spawned at boot
 * and the boot-time tunables. The daemon's config file (CONFIG_FILE) is this object, and a
 * scenario's `machine` (schemas/scenario.ts) is the same one.
 */
import { z } from 'zod'
import { MAX_NUMNODES } from '../kernel/machine.ts'
import { ProcessSpecSchema } from './processes.ts'

/** Page state costs 8 bytes a page: 256 GiB of simulated memory is at most 512 MiB of it. */
export const MAX_MACHINE_BYTES = 256 * 2 ** 30
export const MAX_CONFIG_PROCESSES = 256

const NodeSpec = z.strictObject({
  capacity: z.number().int().positive().multipleOf(4096).describe('bytes'),
  cpus: z.boolean().describe('nodes with CPUs are the top tier'),
  adistance: z
    .number()
    .int()
    .min(0)
    .max(1 << 20)
    .optional(),
  latency_ns: z.number().min(1).max(1e6).optional(),
  label: z.string().min(1).max(32).optional(),
})

const Topology = z
  .strictObject({
    nodes: z.array(NodeSpec).min(1).max(MAX_NUMNODES),
    distance: z
      .array(z.array(z.number().int().min(10).max(254)).max(MAX_NUMNODES))
      .max(MAX_NUMNODES)
      .optional(),
  })
  .refine((t) => t.nodes.reduce((sum, n) => sum + n.capacity, 0) <= MAX_MACHINE_BYTES, {
    message: `the nodes add up to more than ${MAX_MACHINE_BYTES / 2 ** 30} GiB`,
  })

const TunableValue = z.union([z.string().max(4096), z.number(), z.boolean()])

export const ConfigFile = z.strictObject({
  topology: Topology.optional().describe(
    'NUMA nodes `{capacity, cpus, adistance?, latency_ns?, label?}` and an optional SLIT ' +
      '`distance` matrix.',
  ),
  processes: z
    .array(ProcessSpecSchema)
    .max(MAX_CONFIG_PROCESSES)
    .optional()
    .describe('Processes spawned at boot, each as `POST /processes` takes it.'),
  tunables: z
    .record(z.string().max(256), TunableValue)
    .optional()
    .describe(
      'Boot-time sysfs writes, as /etc/sysfs.d: `{"/sys/kernel/mm/kscand/scan_sleep_ms": 100}`. ' +
        'Values go through the same parser as an HTTP write.',
    ),
})
export type ConfigFile = z.infer<typeof ConfigFile>

/**
 * A config file's text parsed and validated; `fail` gets the one-line problem (`not JSON: …`,
 * `processes[1].size: …`) and throws.
 */
export function parseConfigFile(text: string, fail: (why: string) => never): ConfigFile {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (err) {
    fail(`not JSON: ${(err as Error).message}`)
  }
  const parsed = ConfigFile.safeParse(json)
  return parsed.success ? parsed.data : fail(issueLine(parsed.error))
}

/** A zod error as one line: the key path of its first issue and the problem. */
export function issueLine(err: z.ZodError): string {
  const issue = err.issues[0]
  const at = issue.path.length > 0 ? z.core.toDotPath(issue.path) : '(top level)'
  return `${at}: ${issue.message}`
}
