/**
 * A scenario: everything a headless run needs to reproduce an experiment — the seed, the
 * machine (the daemon's config file object, schemas/machine.ts), a timeline of commands at
 * virtual times, how long to run and what to record. `kscand-sim run` reads it from YAML or
 * JSON (src/experiments/load.ts); docs/scenario.schema.json is this schema as JSON Schema
 * (`npm run scenario-schema`), and docs/experiments.md documents it.
 */
import { z } from 'zod'
import { EVENTS } from '../kernel/trace.ts'
import { ConfigFile } from './machine.ts'
import { PrctlRequest, ProcessSpecSchema } from './processes.ts'

/** Ten virtual days: far beyond any run that finishes in reasonable wall time. */
export const MAX_DURATION_MS = 864_000_000
/** Default cap of a run that lasts until every budget is spent (one virtual hour). */
export const DEFAULT_LIMIT_MS = 3_600_000
export const MAX_TIMELINE = 10_000
/** A note's old and new values: the longest a tracefs file's brief shows. */
export const MAX_NOTE = 65_536
/** A matrix has at most this many keys, and its cartesian product at most MAX_CELLS cells. */
export const MAX_MATRIX_KEYS = 8
export const MAX_CELLS = 256

/**
 * The promoters a matrix's `policy` key switches between (docs/experiments.md §9): the NUMA
 * balancing mode (/proc/sys/kernel/numa_balancing) and kscand's scan (on from boot, or
 * scan_enabled 0).
 */
export const POLICIES = {
  kscand: { numa_balancing: 0, kscand: 1 },
  numab1: { numa_balancing: 1, kscand: 0 },
  numab2: { numa_balancing: 2, kscand: 0 },
  'numab1+kscand': { numa_balancing: 1, kscand: 1 },
  'numab2+kscand': { numa_balancing: 2, kscand: 1 },
  none: { numa_balancing: 0, kscand: 0 },
} as const
export type Policy = keyof typeof POLICIES

/** The events a trace may keep, as perf names them. */
export const TRACE_EVENTS = EVENTS.map((e) => `${e.system}:${e.name}`) as [string, ...string[]]

const VirtualMs = z.number().int().min(0).max(MAX_DURATION_MS)

const Target = z
  .union([z.number().int().positive(), z.string().min(1).max(15)])
  .describe('a pid, or a comm: the live process with that comm and the lowest pid')

const at = { at_ms: VirtualMs.describe('virtual ms since boot the command runs at') }

export const Command = z
  .discriminatedUnion('do', [
    z
      .strictObject({
        ...at,
        do: z.literal('write'),
        path: z.string().min(1).max(256).describe('a writable sysfs or procfs file'),
        value: z.union([z.string().max(4096), z.number(), z.boolean()]),
      })
      .describe('echo VALUE > PATH, as PUT PATH does'),
    PrctlRequest.extend({ ...at, do: z.literal('prctl'), process: Target }).describe(
      'prctl() as the process, as POST /processes/PID/prctl does',
    ),
    z
      .strictObject({ ...at, do: z.literal('start'), thread: z.string().min(1).max(16) })
      .describe('POST /threads/NAME/start'),
    z
      .strictObject({ ...at, do: z.literal('stop'), thread: z.string().min(1).max(16) })
      .describe('POST /threads/NAME/stop'),
    z
      .strictObject({ ...at, do: z.literal('spawn'), spec: ProcessSpecSchema })
      .describe('POST /processes: execve() of a new process'),
    z
      .strictObject({ ...at, do: z.literal('fork'), process: Target })
      .describe('POST /processes/PID/fork'),
    z
      .strictObject({ ...at, do: z.literal('exit'), process: Target })
      .describe('DELETE /processes/PID'),
    z
      .strictObject({ ...at, do: z.literal('shift'), process: Target })
      .describe("a hotset workload's hot set moves now, as at its shift_at_ms"),
    z
      .strictObject({
        ...at,
        do: z.literal('note'),
        path: z
          .string()
          .min(1)
          .max(256)
          .describe('what was written: /sim, /sim/step, a tracefs file'),
        old: z.string().max(MAX_NOTE).describe('the value before, as the event prints it'),
        new: z.string().max(MAX_NOTE).describe('the value after, as the event prints it'),
      })
      .describe(
        'trace only: emits the sysfs:sysfs_write event of a write that changes no simulation ' +
          'state (the clock, tracefs), as GET /sim/scenario records them; changes nothing',
      ),
  ])
  .meta({ id: 'ScenarioCommand' })

export type Command = z.infer<typeof Command>

/** A matrix value: it appears in the cell's id (`key=value`), so no `,` or `=` in it. */
const MatrixValue = z.union([
  z
    .string()
    .min(1)
    .max(64)
    .refine((v) => !v.includes(',') && !v.includes('='), 'no , or = in a matrix value'),
  z.number(),
  z.boolean(),
])

const MatrixValues = <T extends z.ZodType>(value: T) => z.array(value).min(1).max(MAX_CELLS)

export const Matrix = z
  .object({
    policy: MatrixValues(z.enum(Object.keys(POLICIES) as [Policy, ...Policy[]]))
      .optional()
      .describe('promoters: numa_balancing mode and kscand scan_enabled (docs/experiments.md §9)'),
    seed: MatrixValues(
      z
        .number()
        .int()
        .min(0)
        .max(2 ** 32 - 1),
    )
      .optional()
      .describe("the kernel's seed, in place of the scenario's"),
  })
  .catchall(MatrixValues(MatrixValue))
  .describe(
    'a sweep: each key a list of values, the cells their cartesian product (the first key ' +
      'varying slowest). Keys: policy, seed, or a writable sysfs/procfs file by its path ' +
      '(/sys/kernel/mm/kscand/scan_sleep_ms) or a unique tail of it with . for / ' +
      '(scan_sleep_ms, quirks.kmigrated_sticky_slot), set at boot as machine.tunables',
  )
  .superRefine((m, ctx) => {
    const keys = Object.keys(m)
    if (keys.length === 0) ctx.addIssue({ code: 'custom', message: 'a matrix needs a key' })
    if (keys.length > MAX_MATRIX_KEYS) {
      ctx.addIssue({
        code: 'custom',
        path: [keys[MAX_MATRIX_KEYS]],
        message: `a matrix has at most ${MAX_MATRIX_KEYS} keys`,
      })
    }
    let cells = 1
    for (const key of keys) {
      const values = (m[key] ?? []) as unknown[]
      values.forEach((v, i) => {
        const first = values.indexOf(v)
        if (first !== i) {
          ctx.addIssue({ code: 'custom', path: [key, i], message: `${v} is also [${first}]` })
        }
      })
      cells *= values.length
      if (cells > MAX_CELLS) {
        const sizes = keys.map((k) => ((m[k] ?? []) as unknown[]).length)
        const total = sizes.reduce((a, n) => a * n, 1)
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `the matrix has ${sizes.join(' × ')} = ${total} cells; at most ${MAX_CELLS}`,
        })
        return
      }
    }
  })
  .meta({ id: 'ScenarioMatrix' })

export type Matrix = z.infer<typeof Matrix>

export const Scenario = z
  .strictObject({
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/)
      .optional()
      .describe('names the output folder (default: the file name without its extension)'),
    description: z.string().max(4096).optional(),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 32 - 1)
      .default(42)
      .describe('the same scenario and seed give the same summary and trace'),
    machine: ConfigFile.optional().describe(
      'topology, processes and boot-time tunables, as the daemon config file (CONFIG_FILE) ' +
        'takes them; absent keys: the demo machine',
    ),
    machine_file: z
      .string()
      .min(1)
      .max(4096)
      .optional()
      .describe('instead of machine: a config file (JSON), relative to the scenario file'),
    matrix: Matrix.optional(),
    timeline: z.array(Command).max(MAX_TIMELINE).default([]).describe('commands, by at_ms'),
    duration_ms: z
      .union([VirtualMs.positive(), z.literal('until_budgets_spent')])
      .describe(
        'virtual ms to run, or until every closed-loop process has spent its budget ' +
          '(at most limit_ms)',
      ),
    limit_ms: VirtualMs.positive()
      .default(DEFAULT_LIMIT_MS)
      .describe('until_budgets_spent: virtual ms after which the run gives up'),
    record: z
      .strictObject({
        series_interval_ms: z
          .number()
          .int()
          .min(1)
          .max(MAX_DURATION_MS)
          .default(1000)
          .describe('virtual ms between two rows of series.csv'),
        trace: z
          .strictObject({
            format: z
              .enum(['trace_pipe', 'json'])
              .default('trace_pipe')
              .describe('trace_pipe text (trace.txt) or JSON lines (trace.jsonl)'),
            events: z
              .array(z.enum(TRACE_EVENTS))
              .min(1)
              .optional()
              .describe('events to keep (default: every event)'),
          })
          .optional()
          .describe('absent: no trace'),
      })
      .default({ series_interval_ms: 1000 }),
  })
  .superRefine((s, ctx) => {
    if (s.machine && s.machine_file !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['machine_file'],
        message: 'give machine or machine_file, not both',
      })
    }
    const end = s.duration_ms === 'until_budgets_spent' ? s.limit_ms : s.duration_ms
    s.timeline.forEach((c, i) => {
      if (c.at_ms > end) {
        ctx.addIssue({
          code: 'custom',
          path: ['timeline', i, 'at_ms'],
          message: `${c.at_ms} is after the end of the run (${end} ms)`,
        })
      }
    })
  })
  .meta({ id: 'Scenario' })

/** A scenario as a run takes it: its machine read from its file if it named one. */
export type Scenario = Omit<z.infer<typeof Scenario>, 'machine' | 'machine_file'> & {
  machine: ConfigFile
}
/** A scenario as written, before defaults. */
export type ScenarioInput = z.input<typeof Scenario>
