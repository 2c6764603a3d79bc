/** An app on a small machine with a paused runner: time moves only when a test says so. */
import type { FastifyInstance } from 'fastify'
import { SimRunner } from '../../src/host/runner.ts'
import { Kernel } from '../../src/kernel/kernel.ts'
import type { KernelConfig, ProcessSpec } from '../../src/kernel/spec.ts'
import type { SysfsFile } from '../../src/sysfs/file.ts'
import { sysfsTable } from '../../src/sysfs/table.ts'
import { appServer } from './app.ts'
import { SMALL } from './kernel.ts'

export interface Built {
  readonly server: FastifyInstance
  readonly kernel: Kernel
  readonly runner: SimRunner
  /** The app's sysfs table. */
  readonly files: readonly SysfsFile[]
  /** Log lines (JSON) when built with `log: true`. */
  readonly logs: string[]
  close(): Promise<void>
}

export interface BuildOptions {
  readonly token?: string
  readonly config?: KernelConfig
  readonly processes?: readonly ProcessSpec[]
  readonly log?: boolean
}

export const TOKEN = 'test-token-0123456789'

export async function build(opts: BuildOptions = {}): Promise<Built> {
  const kernel = new Kernel({ seed: 7, topology: SMALL, ...opts.config })
  for (const p of opts.processes ?? []) kernel.exec(p)
  const runner = new SimRunner(kernel, { mode: 'paused' })
  const files = sysfsTable(kernel)
  const { server, logs } = await appServer({
    kernel,
    runner,
    files,
    token: opts.token,
    log: opts.log,
    frameworkErrors: true,
  })
  await server.ready()
  return {
    server,
    kernel,
    runner,
    files,
    logs,
    close: async () => {
      runner.close()
      await server.close()
    },
  }
}

export const JSON_ACCEPT = { accept: 'application/json' }
export const FORM = { 'content-type': 'application/x-www-form-urlencoded' }
