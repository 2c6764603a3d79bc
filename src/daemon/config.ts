/**
 * The process's configuration, parsed once at startup: environment variables (the `Env`
 * schema) and an optional JSON config file describing the machine (`ConfigFile`). Each
 * schema carries its documentation; `kscand-sim --help` and the README configuration table
 * are generated from them, so they cannot drift. A bad value stops the process with one line
 * naming the variable or key.
 */
import { readFileSync, statSync } from 'node:fs'
import { isIP } from 'node:net'
import { parseArgs } from 'node:util'
import { z } from 'zod'
import { DEFAULT_RING_CAPACITY } from '../events/hub.ts'
import { MAX_CAPACITY, SLOT_BYTES } from '../events/ring.ts'
import { USAGE } from '../experiments/cli.ts'
import { readSmallFile } from '../experiments/load.ts'
import { type MachineConfig, machineConfig } from '../host/boot.ts'
import { DEFAULT_WRITE_QUEUE } from '../host/persist.ts'
import { DEFAULT_STEP_QUEUE } from '../host/runner.ts'
import { type BrowserPolicy, parseHost } from '../http/browsers.ts'
import { DEFAULT_RECORD_BYTES } from '../http/recording.ts'
import { MAX_PROCESSES, MAX_VMAS } from '../kernel/constants.ts'
import {
  HISTORY_PROCESSES_DEFAULT,
  HISTORY_PROCESSES_MAX,
  HISTORY_SECONDS_DEFAULT,
  HISTORY_SECONDS_MAX,
  HISTORY_SECONDS_MIN,
} from '../kernel/history.ts'
import { DEFAULT_METRICS_MAX_PROCESSES } from '../metrics/metrics.ts'
import { ConfigFile, parseConfigFile } from '../schemas/machine.ts'
import { MAX_SPEED } from '../schemas/sim.ts'

/** An integer written in decimal: unlike z.coerce.number(), '' and '1e3' are errors. */
const integer = (min: number, max: number) =>
  z
    .string()
    .regex(/^-?\d+$/, 'expected a decimal integer')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max))

/** A comma-separated list whose every item passes `valid`. */
const list = (what: string, valid: (item: string) => boolean) =>
  z
    .string()
    .transform((v) =>
      v
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== ''),
    )
    .refine((items) => items.every(valid), { message: `expected a comma-separated ${what} list` })

/** `scheme://host[:port]` exactly as a browser sends it in Origin. */
function isOrigin(text: string): boolean {
  try {
    const url = new URL(text)
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === text
  } catch {
    return false
  }
}

/** Tokens shorter than this are refused off loopback. */
export const MIN_TOKEN_LENGTH = 16
/** A token file is one line; anything near this is not one. */
const MAX_TOKEN_FILE_BYTES = 4096

const LogLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])

const Env = z.object({
  HOST: z
    .string()
    .min(1)
    .default('127.0.0.1')
    .describe('Address to listen on (0.0.0.0 in the container). Off loopback a token is required.'),
  PORT: integer(0, 65535).default(8080).describe('TCP port to listen on; 0 picks a free one.'),
  KSCAND_SIM_TOKEN: z
    .string()
    .min(1)
    .optional()
    .describe(
      'Bearer token every write must carry; it also grants reads. Visible ASCII, at least ' +
        `${MIN_TOKEN_LENGTH} characters off loopback. Never logged.`,
    ),
  KSCAND_SIM_TOKEN_FILE: z
    .string()
    .min(1)
    .optional()
    .describe('File holding KSCAND_SIM_TOKEN (one trailing newline dropped); not with it.'),
  KSCAND_SIM_READ_TOKEN: z
    .string()
    .min(1)
    .optional()
    .describe(
      'Bearer token every read and the event stream must carry (the write token does too); ' +
        'writes need it when no write token is set. /healthz and /readyz stay open.',
    ),
  KSCAND_SIM_READ_TOKEN_FILE: z
    .string()
    .min(1)
    .optional()
    .describe('File holding KSCAND_SIM_READ_TOKEN (one trailing newline dropped); not with it.'),
  KSCAND_SIM_ALLOW_ANONYMOUS_WRITES: z
    .stringbool()
    .default(false)
    .describe('Let anyone who can reach a non-loopback HOST write, without a token.'),
  ALLOWED_HOSTS: list('host name', (h) => parseHost(h) !== null)
    .optional()
    .describe(
      'Comma-separated Host names (`name` or `name:port`) answered besides the loopback ' +
        'names; others get 421. Unset off loopback: any Host.',
    ),
  ALLOWED_ORIGINS: list('origin', isOrigin)
    .optional()
    .describe(
      'Comma-separated origins (`https://dash.example`) whose pages may write and open ' +
        "the event stream, besides the daemon's own.",
    ),
  MAX_STREAMS_PER_ADDRESS: integer(1, 1_000_000)
    .default(8)
    .describe('Event-stream connections open at once from one client address.'),
  SPEED: z.coerce
    .number()
    .positive()
    .max(MAX_SPEED)
    .default(1)
    .describe('Virtual ms per wall ms in realtime mode.'),
  SIM_MODE: z
    .enum(['realtime', 'paused', 'afap'])
    .default('realtime')
    .describe('How the clock runs at boot: realtime × SPEED, paused, or as fast as possible.'),
  SEED: integer(0, 2 ** 32 - 1)
    .default(42)
    .describe('Seed of the simulation: the same seed and commands give the same trace.'),
  LOG_LEVEL: LogLevel.default('info').describe('pino log level (JSON lines on stdout).'),
  REQUEST_LOG_LEVEL: LogLevel.default('info').describe(
    'Level of the one line logged per request; /healthz, /readyz and /metrics log at debug.',
  ),
  CONFIG_FILE: z
    .string()
    .min(1)
    .optional()
    .describe('JSON file describing the machine: topology, processes, boot-time tunables.'),
  REPORTS_DIR: z
    .string()
    .optional()
    .transform((v) => v || undefined)
    .describe(
      'Folder of `kscand-sim run --out` folders the dashboard lists (GET /sim/reports); unset: none.',
    ),
  STATE_FILE: z
    .string()
    .optional()
    .transform((v) => v || undefined)
    .describe('Crash-safe state file; unset or empty: run-time changes are not kept.'),
  STATE_FILE_ON_CORRUPT: z
    .enum(['refuse', 'move-aside'])
    .default('refuse')
    .describe('A state file that does not parse: refuse to start, or rename it and start afresh.'),
  MAX_PROCESSES: integer(1, MAX_PROCESSES)
    .default(MAX_PROCESSES)
    .describe('Most live processes; a spawn or fork beyond fails with ENOSPC (507).'),
  MAX_VMAS: integer(1, MAX_VMAS)
    .default(MAX_VMAS)
    .describe('Most VMAs a process may have; a spawn with more fails with E2BIG (413).'),
  WRITE_QUEUE: integer(1, 65_536)
    .default(DEFAULT_WRITE_QUEUE)
    .describe('Writes being saved or waiting their turn, at most; beyond: 503 EAGAIN.'),
  STEP_QUEUE: integer(1, 1024)
    .default(DEFAULT_STEP_QUEUE)
    .describe('POST /sim/step requests running or waiting, at most; beyond: 503 EAGAIN.'),
  RECORD_BYTES: integer(0, 64 * 1024 * 1024)
    .default(DEFAULT_RECORD_BYTES)
    .describe(
      'Bytes (as JSON) of accepted commands, and notes of traced clock and tracefs ' +
        'writes, kept for GET /sim/scenario; past it the ' +
        'recording stops and GET /sim/scenario answers 413.',
    ),
  METRICS_MAX_PROCESSES: integer(0, MAX_PROCESSES)
    .default(DEFAULT_METRICS_MAX_PROCESSES)
    .describe('Processes (lowest pids) with per-process metrics; the rest are only counted.'),
  HISTORY_SECONDS: integer(HISTORY_SECONDS_MIN, HISTORY_SECONDS_MAX)
    .default(HISTORY_SECONDS_DEFAULT)
    .describe(
      'Virtual seconds of chart history kept (GET /sim/history, the snapshot), one sample a ' +
        'second: 8 bytes × (7 + HISTORY_PROCESSES × 7) a second on the demo machine (952 B).',
    ),
  HISTORY_PROCESSES: integer(0, HISTORY_PROCESSES_MAX)
    .default(HISTORY_PROCESSES_DEFAULT)
    .describe(
      'Processes (the first alive) whose series the history keeps: 8 bytes × (nodes + 4) ' +
        'each per second of HISTORY_SECONDS.',
    ),
  RING_SIZE: integer(1, MAX_CAPACITY)
    .default(DEFAULT_RING_CAPACITY)
    .describe(`Events the event-stream ring holds (${SLOT_BYTES} bytes each).`),
  MAX_EVENT_LOOP_DELAY_MS: integer(0, 60_000)
    .default(1000)
    .describe('Event-loop delay above which requests get 503 instead of queueing; 0: off.'),
  WRITE_RATE_LIMIT: integer(0, 1_000_000)
    .default(600)
    .describe('Writes and event-stream upgrades per minute per client address; 0: off.'),
  SHUTDOWN_TIMEOUT_MS: integer(1000, 600_000)
    .default(8000)
    .describe("Longest graceful stop; past it the process exits 1. Below docker stop's 10 s."),
  SHUTDOWN_DRAIN_MS: integer(0, 60_000)
    .default(0)
    .describe('How long /readyz answers 503 before the listener closes (for load balancers).'),
  SHUTDOWN_WS_GRACE_MS: integer(0, 60_000)
    .default(2000)
    .describe('How long websocket clients get to answer the 1001 close before being cut.'),
})

export type Config = z.infer<typeof Env>

/** True for addresses only this machine can reach: 127.0.0.0/8, ::1 and `localhost`. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true
  return isIP(host) === 4 && host.startsWith('127.')
}

/** The secret a `_FILE` variable names: its file's text less one trailing newline. */
function readSecretFile(variable: string, path: string): string {
  const fail = (why: string): never => {
    throw new Error(`bad environment: ${variable}=${JSON.stringify(path)}: ${why}`)
  }
  let text = ''
  try {
    // Checked first: reading a FIFO would block the boot, a device would never end.
    const st = statSync(path)
    if (!st.isFile()) fail('not a regular file')
    if (st.size > MAX_TOKEN_FILE_BYTES) fail(`${st.size} bytes; a token file is one line`)
    text = readFileSync(path, 'utf8')
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    if (!e.code) throw err
    fail(`cannot read it: ${e.code}`)
  }
  return text.replace(/\r?\n$/, '')
}

const VISIBLE_ASCII = /^[\x21-\x7e]+$/

/**
 * A token from `name` or `name_FILE` (not both), checked: visible ASCII (what an
 * Authorization header can carry), and long enough to resist guessing off loopback.
 */
function token(
  config: Config,
  name: 'KSCAND_SIM_TOKEN' | 'KSCAND_SIM_READ_TOKEN',
  loopback: boolean,
): string | undefined {
  const file = config[`${name}_FILE`]
  if (file !== undefined && config[name] !== undefined) {
    throw new Error(`bad environment: set ${name} or ${name}_FILE, not both`)
  }
  const value = file === undefined ? config[name] : readSecretFile(`${name}_FILE`, file)
  if (value === undefined) return undefined
  if (!VISIBLE_ASCII.test(value)) {
    throw new Error(
      `bad environment: ${name}: only visible ASCII characters (no spaces, no control or ` +
        'non-ASCII characters)',
    )
  }
  if (!loopback && value.length < MIN_TOKEN_LENGTH) {
    throw new Error(
      `bad environment: ${name}: ${value.length} characters; off loopback a token has at ` +
        `least ${MIN_TOKEN_LENGTH}`,
    )
  }
  return value
}

/**
 * Parses the environment; the tokens come out read from their files and checked. Throws
 * when the server would accept anonymous writes from the network: a non-loopback HOST needs
 * a write token or KSCAND_SIM_ALLOW_ANONYMOUS_WRITES=1.
 */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const parsed = Env.safeParse(env)
  if (!parsed.success) throw new Error(`bad environment: ${describeIssues(parsed.error, env)}`)
  const loopback = isLoopback(parsed.data.HOST)
  const config: Config = {
    ...parsed.data,
    KSCAND_SIM_TOKEN: token(parsed.data, 'KSCAND_SIM_TOKEN', loopback),
    KSCAND_SIM_READ_TOKEN: token(parsed.data, 'KSCAND_SIM_READ_TOKEN', loopback),
  }
  if (!loopback && !config.KSCAND_SIM_TOKEN && !config.KSCAND_SIM_ALLOW_ANONYMOUS_WRITES) {
    throw new Error(
      `refusing to listen on ${config.HOST} without a write token: set KSCAND_SIM_TOKEN, ` +
        'or KSCAND_SIM_ALLOW_ANONYMOUS_WRITES=1 to let anyone who can reach it write',
    )
  }
  const { SHUTDOWN_TIMEOUT_MS: total, SHUTDOWN_DRAIN_MS: drain, SHUTDOWN_WS_GRACE_MS: ws } = config
  if (drain + ws >= total) {
    throw new Error(
      `bad environment: SHUTDOWN_TIMEOUT_MS (${total}) must exceed SHUTDOWN_DRAIN_MS + ` +
        `SHUTDOWN_WS_GRACE_MS (${drain} + ${ws})`,
    )
  }
  return config
}

/** What browsers may do (browsers.ts), as configured. */
export function browserPolicy(config: Config): BrowserPolicy {
  return {
    loopback: isLoopback(config.HOST),
    allowedHosts: config.ALLOWED_HOSTS ?? [],
    allowedOrigins: config.ALLOWED_ORIGINS ?? [],
  }
}

/** Variables whose values are never echoed in messages. */
const SECRET = new Set(['KSCAND_SIM_TOKEN', 'KSCAND_SIM_READ_TOKEN'])

/** Every issue on one line: `PORT="70000": Too big: expected number to be <=65535; …`. */
function describeIssues(err: z.ZodError, env: Record<string, string | undefined>): string {
  return err.issues
    .map((issue) => {
      const name = String(issue.path[0])
      const value = env[name]
      const shown =
        value === undefined || SECRET.has(name) ? '' : `=${JSON.stringify(value.slice(0, 40))}`
      return `${name}${shown}: ${issue.message}`
    })
    .join('; ')
}

// ---- the config file ---------------------------------------------------------------------

/** Config files are a few KiB; anything near this is not one. */
export const MAX_CONFIG_FILE_BYTES = 1024 * 1024

/** What each config file key is when absent (typed by the keys, so none is missed). */
const FILE_DEFAULTS: Record<keyof ConfigFile, string> = {
  topology: 'the demo machine: two 4 GiB DRAM nodes with CPUs, one 8 GiB CXL node',
  processes: 'the demo processes: memcached, gups, backup (src/kernel/demo.ts)',
  tunables: 'none: the kernel defaults',
}

/** Reads and validates the config file; throws one line naming the file and key. */
export function loadMachineConfig(path: string | undefined): MachineConfig {
  let file: ConfigFile = {}
  if (path !== undefined) {
    function fail(why: string): never {
      throw new Error(`config file ${path}: ${why}`)
    }
    file = parseConfigFile(readSmallFile(path, MAX_CONFIG_FILE_BYTES, 'config file', fail), fail)
  }
  return machineConfig(file)
}

// ---- documentation -----------------------------------------------------------------------

export interface OptionDoc {
  readonly name: string
  readonly default: string
  readonly doc: string
}

function envDefault(schema: z.ZodType): string {
  const r = schema.safeParse(undefined)
  return r.success && r.data !== undefined ? String(r.data) : '(unset)'
}

/** Every environment variable with its default and doc, in declaration order. */
export const ENV_OPTIONS: readonly OptionDoc[] = Object.entries(Env.shape).map(([name, s]) => ({
  name,
  default: envDefault(s),
  doc: s.description ?? '',
}))

/** Every config file key with what applies when it is absent. */
export const FILE_OPTIONS: readonly OptionDoc[] = Object.entries(ConfigFile.shape).map(
  ([name, s]) => ({
    name,
    default: FILE_DEFAULTS[name as keyof ConfigFile],
    doc: s.description ?? '',
  }),
)

/** `kscand-sim --help`. */
export function helpText(): string {
  const line = (o: OptionDoc, width: number) =>
    `  ${o.name.padEnd(width)}  ${o.doc}\n  ${' '.repeat(width)}  default: ${o.default}\n`
  const w = Math.max(...ENV_OPTIONS.map((o) => o.name.length))
  return (
    'Usage: kscand-sim [--help | --version]\n' +
    `       ${USAGE.replace('Usage: ', '').trimEnd()}\n` +
    'The other forms run a scenario headless and merge the shards of a sweep (docs/experiments.md).\n\n' +
    'Serves a simulated kscand/kmigrated machine over HTTP. Configured by environment\n' +
    'variables and an optional JSON config file (CONFIG_FILE).\n\n' +
    'Environment variables:\n' +
    ENV_OPTIONS.map((o) => line(o, w)).join('') +
    '\nConfig file keys (JSON object; unknown keys are errors):\n' +
    FILE_OPTIONS.map((o) => line(o, w)).join('')
  )
}

/** The README configuration table (test/daemon/startup.test.ts keeps README.md in step). */
export function configTable(): string {
  const cell = (s: string) => s.replaceAll('|', '\\|')
  const rows = (opts: readonly OptionDoc[], what: string) =>
    opts.map((o) => `| ${what} | \`${o.name}\` | ${cell(o.default)} | ${cell(o.doc)} |\n`).join('')
  return (
    '| where | name | default | what |\n|---|---|---|---|\n' +
    rows(ENV_OPTIONS, 'env') +
    rows(FILE_OPTIONS, 'config file')
  )
}

/**
 * The command line: only `--help` and `--version` (everything else is configured by the
 * environment).
 */
export function parseCommandLine(argv: readonly string[]): { help: boolean; version: boolean } {
  try {
    const { values } = parseArgs({
      args: [...argv],
      options: { help: { type: 'boolean', short: 'h' }, version: { type: 'boolean', short: 'V' } },
      strict: true,
      allowPositionals: false,
    })
    return { help: values.help === true, version: values.version === true }
  } catch (err) {
    throw new Error(`${(err as Error).message.split('\n')[0]} (see --help)`)
  }
}
