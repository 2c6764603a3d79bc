/**
 * Helpers for the state, limits and steps tests of test/security: a real server on
 * 127.0.0.1 with a state file, killed after each test, and requests as curl sends them.
 */
import { join } from 'node:path'
import { afterEach } from 'vitest'
import { MAX_VMAS } from '../../src/kernel/constants.ts'
import type { ProcessSpec } from '../../src/kernel/spec.ts'
import {
  NO_SHEDDING,
  type ServerProcess,
  smallConfigFile,
  startServer,
  TOKEN,
  tempDirs,
} from '../helpers/process.ts'

export const SLEEP = '/sys/kernel/mm/kscand/scan_sleep_ms'
export const AUTH = { authorization: `Bearer ${TOKEN}` }
const JSON_IO = { ...AUTH, accept: 'application/json' }

export const dir = tempDirs()
const servers: ServerProcess[] = []
afterEach(() => {
  for (const s of servers.splice(0)) s.child.kill('SIGKILL')
})

/** The small machine, paused, with a token and a state file in a fresh directory. */
export async function start(env: Record<string, string> = {}, d = dir()) {
  const stateFile = join(d, 'state.json')
  const srv = await startServer({
    CONFIG_FILE: smallConfigFile(d),
    STATE_FILE: stateFile,
    KSCAND_SIM_TOKEN: TOKEN,
    SIM_MODE: 'paused',
    WRITE_RATE_LIMIT: '0',
    ...NO_SHEDDING,
    ...env,
  })
  servers.push(srv)
  return { srv, stateFile, dir: d }
}

/** A JSON request with the token; the answer's status, headers and JSON body. */
export async function call(url: string, method: string, body?: unknown) {
  const res = await fetch(url, {
    method,
    headers: body === undefined ? JSON_IO : { ...JSON_IO, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await res.text()
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null }
}

/** A process of MAX_VMAS one-page VMAs: about 115 KB of state file. */
export function wideProcess(comm: string): ProcessSpec {
  return {
    comm,
    vmas: Array.from({ length: MAX_VMAS }, () => ({ kind: 'anon' as const, size: 4096 })),
    workload: { pattern: 'idle' },
  }
}

/** A one-page idle process: the smallest record. */
export const tinyProcess = (comm: string): ProcessSpec => ({
  comm,
  size: 4096,
  workload: { pattern: 'idle' },
})
