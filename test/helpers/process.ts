/**
 * Helpers for the operations tests: the server as a real child process (signals, kill -9,
 * the wire), and the same plugins on an in-process instance for `inject`.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { afterEach } from 'vitest'
import { Lifecycle } from '../../src/daemon/lifecycle.ts'
import { VERSION } from '../../src/daemon/version.ts'
import { EventHub } from '../../src/events/hub.ts'
import { boot, type MachineConfig } from '../../src/host/boot.ts'
import type { Persistence } from '../../src/host/persist.ts'
import { SimRunner } from '../../src/host/runner.ts'
import { MiB } from '../../src/kernel/constants.ts'
import type { Kernel } from '../../src/kernel/kernel.ts'
import type { ProcessSpec } from '../../src/kernel/spec.ts'
import { Metrics } from '../../src/metrics/metrics.ts'
import { appServer } from './app.ts'
import { SMALL } from './kernel.ts'

export const ROOT = resolve(import.meta.dirname, '../..')
export const TOKEN = 'ops-test-token-5c2f9a'

/**
 * Environment for process tests that are not about overload: shedding is tested in
 * health.test.ts, and on a busy two-core machine it would turn their answers into 503.
 */
export const NO_SHEDDING = { MAX_EVENT_LOOP_DELAY_MS: '0' }

export const SMALL_PROCESS: ProcessSpec = {
  comm: 'app',
  size: 16 * MiB,
  policy: { mode: 'interleave', nodes: [0, 2] },
  workload: { pattern: 'zipf', theta: 0.99 },
}

/** A small machine with one process: boots in milliseconds. */
export const SMALL_MACHINE: MachineConfig = {
  topology: SMALL,
  processes: [SMALL_PROCESS],
  tunables: {},
}

/** A fresh temporary directory, removed by the returned cleanup. */
export function tempDir(prefix = 'kscand-sim-ops-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

/** Temporary directories for a test file: `dir()` makes one, removed after each test. */
export function tempDirs(): () => string {
  const cleanups: (() => void)[] = []
  afterEach(() => {
    for (const c of cleanups.splice(0)) c()
  })
  return () => {
    const t = tempDir()
    cleanups.push(t.cleanup)
    return t.dir
  }
}

/** Writes the small machine as a config file in `dir` and returns its path. */
export function smallConfigFile(dir: string): string {
  const path = join(dir, 'machine.json')
  writeFileSync(path, JSON.stringify(SMALL_MACHINE))
  return path
}

// ---- the server as a child process ------------------------------------------------------

export interface Exit {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
}

export interface ServerProcess {
  readonly child: ChildProcess
  readonly port: number
  readonly url: string
  /** Everything written to stdout / stderr so far. */
  stdout(): string
  stderr(): string
  readonly exited: Promise<Exit>
}

interface SpawnOptions {
  readonly args?: readonly string[]
  readonly cwd?: string
  /** The command and its arguments; default: this repo's server through tsx. */
  readonly command?: readonly string[]
  readonly timeoutMs?: number
}

/** The environment a child gets: only what is given (plus PATH and HOME). */
function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, ...env }
}

function launch(env: Record<string, string>, opts: SpawnOptions) {
  const [cmd, ...cmdArgs] = opts.command ?? [process.execPath, '--import', 'tsx', 'src/server.ts']
  const child = spawn(cmd, [...cmdArgs, ...(opts.args ?? [])], {
    cwd: opts.cwd ?? ROOT,
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  child.stdout?.on('data', (d) => {
    out += d
  })
  child.stderr?.on('data', (d) => {
    err += d
  })
  const exited = new Promise<Exit>((res) =>
    child.once('exit', (code, signal) => res({ code, signal })),
  )
  return { child, stdout: () => out, stderr: () => err, exited }
}

const LISTENING = /Server listening at http:\/\/127\.0\.0\.1:(\d+)/

/** Starts the server on 127.0.0.1:0 and resolves once it logged where it listens. */
export async function startServer(
  env: Record<string, string>,
  opts: SpawnOptions = {},
): Promise<ServerProcess> {
  const p = launch({ HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ...env }, opts)
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000)
  let done = false
  p.exited.then(() => {
    done = true
  })
  for (;;) {
    const m = LISTENING.exec(p.stdout())
    if (m) {
      const port = Number(m[1])
      return { ...p, port, url: `http://127.0.0.1:${port}` }
    }
    if (done || Date.now() > deadline) {
      p.child.kill('SIGKILL')
      throw new Error(
        `server did not start (${done ? 'it exited' : 'timeout'}): ${p.stderr() || p.stdout()}`,
      )
    }
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** Runs the server to its exit (a startup failure, `--help`), bounded in time. */
export async function runToExit(
  env: Record<string, string>,
  opts: SpawnOptions = {},
): Promise<Exit & { stdout: string; stderr: string }> {
  const p = launch(env, opts)
  const timer = setTimeout(() => p.child.kill('SIGKILL'), opts.timeoutMs ?? 30_000)
  const exit = await p.exited
  clearTimeout(timer)
  return { ...exit, stdout: p.stdout(), stderr: p.stderr() }
}

/** Waits for `p` or throws after `ms`. */
export async function within<T>(ms: number, p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, rej) => {
    timer = setTimeout(() => rej(new Error(`${what}: not within ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([p, timeout])
  } finally {
    clearTimeout(timer)
  }
}

// ---- in process --------------------------------------------------------------------------

export interface OpsApp {
  readonly server: FastifyInstance
  readonly kernel: Kernel
  readonly runner: SimRunner
  readonly lifecycle: Lifecycle
  readonly metrics: Metrics
  readonly persistence: Persistence | null
  /** The event stream's hub. */
  readonly events: EventHub
  close(): Promise<void>
}

export interface OpsAppOptions {
  readonly stateFile?: string
  readonly token?: string
  readonly maxEventLoopDelayMs?: number
  readonly writeRateLimit?: number
  readonly machine?: MachineConfig
}

/** ops + app on a small machine with a paused runner, ready (not listening). */
export async function buildOps(opts: OpsAppOptions = {}): Promise<OpsApp> {
  const { kernel, files, persistence } = boot({
    seed: 7,
    machine: opts.machine ?? SMALL_MACHINE,
    machineSource: 'test machine',
    stateFile: opts.stateFile,
    onCorrupt: 'refuse',
  })
  const runner = new SimRunner(kernel, { mode: 'paused' })
  const lifecycle = new Lifecycle()
  const metrics = new Metrics({ kernel, runner, persistence, version: VERSION })
  const events = new EventHub(kernel, { files })
  const { server } = await appServer({
    frameworkErrors: true,
    kernel,
    runner,
    files,
    token: opts.token,
    events: { hub: events },
    ops: {
      lifecycle,
      metrics,
      persistence,
      maxEventLoopDelayMs: opts.maxEventLoopDelayMs ?? 0,
      writeRateLimit: opts.writeRateLimit ?? 0,
    },
  })
  await server.ready()
  lifecycle.ready()
  return {
    server,
    kernel,
    runner,
    lifecycle,
    metrics,
    persistence,
    events,
    close: async () => {
      runner.close()
      await server.close()
    },
  }
}

/** The message of what `fn` throws; fails the test if it does not throw. */
export function thrownMessage(fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    return (err as Error).message
  }
  throw new Error('did not throw')
}
