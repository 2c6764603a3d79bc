/**
 * A crawl of every GET route the app registers, as text (what curl gets) and as JSON: no body
 * prints `[object Object]`, and every key of every JSON body, at any depth, is snake_case, the
 * one vocabulary of the API (README "HTTP API"). The routes come from the app itself (an onRoute
 * hook), so a route added later is crawled without this file changing; `:pid` and `:name`
 * take every process and kernel thread there is. The documents (openapi.json as served,
 * asyncapi.yaml) are held to the same rule for the properties they declare, which covers the
 * websocket messages (their schemas are the stream's own, src/events/protocol.ts).
 */
import { readFileSync } from 'node:fs'
import Fastify, { type FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { app } from '../../src/app.ts'
import { TRACEFS } from '../../src/events/tracefs.ts'
import { SimRunner } from '../../src/host/runner.ts'
import { MiB } from '../../src/kernel/constants.ts'
import { Kernel } from '../../src/kernel/kernel.ts'
import { SMALL } from '../helpers/kernel.ts'

const SNAKE = /^[a-z0-9]+(_[a-z0-9]+)*$/

/**
 * Where a JSON body may carry keys that are not our vocabulary, and why. `file` matches the
 * path of the file (or resource) the object belongs to, `at` the object's place in it
 * (`[]` an array item, `.name` a member).
 *
 * Names the kernel gives, copied as the kernel prints them:
 * - /proc/PID/status: fs/proc/array.c's field names (`VmRSS`, `PPid`, `Mems_allowed_list`);
 * - numa_maps: show_numa_map()'s `kernelpagesize_kB`;
 * - tracefs per_cpu/cpuN/stats: ring_buffer's labels (`oldest event ts`, `commit overrun`).
 * Maps keyed by data, not by a name we chose:
 * - numa_maps `nodes`: pages per node, keyed `N<nid>` as the file prints them.
 */
const KERNEL_KEYS: readonly { file: RegExp; at: RegExp; keys: RegExp }[] = [
  { file: /^\/proc\/\d+\/status$/, at: /^$/, keys: /^[A-Za-z_]+$/ },
  { file: /^\/proc\/\d+\/numa_maps$/, at: /^\[\]$/, keys: /^kernelpagesize_kB$/ },
  { file: /^\/proc\/\d+\/numa_maps$/, at: /^\[\]\.nodes$/, keys: /^N\d+$/ },
  { file: /\/per_cpu\/cpu\d+\/stats$/, at: /^\.value$/, keys: /^[a-z]+( [a-z]+)*$/ },
]

/** Every key of `v` that is neither snake_case nor one the kernel gives there, with its place. */
function foreignKeys(v: unknown, file: string, at = ''): string[] {
  if (Array.isArray(v)) return v.flatMap((x) => foreignKeys(x, file, `${at}[]`))
  if (typeof v !== 'object' || v === null) return []
  const obj = v as Record<string, unknown>
  // A directory listing carries each file's value: its keys are that file's.
  if (at === '' && typeof obj.path === 'string' && Array.isArray(obj.entries)) {
    return obj.entries.flatMap((e: { name: string }) => foreignKeys(e, `${obj.path}/${e.name}`))
  }
  return Object.entries(obj).flatMap(([k, x]) => {
    const kernel = KERNEL_KEYS.some((r) => r.file.test(file) && r.at.test(at) && r.keys.test(k))
    const own = SNAKE.test(k) || kernel ? [] : [`${file} ${at}.${k}`]
    return [...own, ...foreignKeys(x, file, `${at}.${k}`)]
  })
}

/** The property names a JSON Schema document declares, with where. */
function declaredProperties(doc: unknown, at = ''): string[] {
  if (Array.isArray(doc)) return doc.flatMap((x, i) => declaredProperties(x, `${at}[${i}]`))
  if (typeof doc !== 'object' || doc === null) return []
  return Object.entries(doc).flatMap(([k, x]) => {
    const here =
      k === 'properties' && typeof x === 'object' && x !== null
        ? Object.keys(x).map((name) => ({ name, where: `${at}.properties` }))
        : []
    return [
      ...here.flatMap(({ name, where }) =>
        documentedKeyOk(name, where) ? [] : [`${where}.${name}`],
      ),
      ...declaredProperties(x, `${at}.${k}`),
    ]
  })
}

/**
 * A declared property is ours unless it is a kernel name (KERNEL_KEYS, of a file the place
 * names) or the key of a map the schema spells out: the tunables of a snapshot by file path,
 * tracefs enables by event name.
 */
function documentedKeyOk(name: string, where: string): boolean {
  if (SNAKE.test(name) || name === 'kernelpagesize_kB') return true
  const files = [...where.matchAll(/\/[\w/]+/g)].map((m) => m[0])
  if (KERNEL_KEYS.some((r) => r.keys.test(name) && files.some((f) => r.file.test(f)))) return true
  if (/\.tunables\.properties$/.test(where)) return name.startsWith('/')
  if (/\.events\.properties$/.test(where)) return /^[a-z_]+:[a-z_]+$/.test(name)
  return false
}

let server: FastifyInstance
let kernel: Kernel
let runner: SimRunner
const routes: { methods: string[]; url: string }[] = []

beforeAll(async () => {
  // Every kind of process, so that every optional part of a view has a value: a hot set that
  // shifts, a bound zipf, a closed loop on the slow tier; NUMA balancing on, so tasks scan.
  kernel = new Kernel({ seed: 7, topology: SMALL, numaBalancing: 2 })
  kernel.exec({
    comm: 'hot',
    size: 16 * MiB,
    workload: { pattern: 'hotset', hot_fraction: 0.1, shift_at_ms: 3000 },
    access_rate: 1e6,
  })
  kernel.exec({
    comm: 'bound',
    size: 8 * MiB,
    policy: { mode: 'bind', nodes: [2] },
    workload: { pattern: 'zipf', theta: 0.99 },
  })
  kernel.exec({
    comm: 'loop',
    size: 8 * MiB,
    policy: { mode: 'local', cpu_node: 0, mem_node: 2 },
    closed_loop: { threads: 4, think_ns: 500, accesses: 1e12 },
  })
  kernel.advance(5000)
  runner = new SimRunner(kernel, { mode: 'paused' })
  server = Fastify()
  server.addHook('onRoute', (r) => {
    routes.push({ methods: [r.method].flat(), url: r.url })
  })
  await server.register(app, { kernel, runner })
  await server.ready()
})

afterAll(async () => {
  runner.close()
  await server.close()
})

/** Every GET URL, parameters filled in with what exists (and one pid that does not). */
function getUrls(): string[] {
  const pids = [
    ...kernel.processList().map((p) => p.pid),
    ...kernel.threads().map((t) => t.pid),
    999_999,
  ].map(String)
  const names = [...kernel.threads().map((t) => t.comm), 'nosuch']
  return routes
    .filter((r) => r.methods.includes('GET'))
    .map((r) => r.url)
    .filter((url) => url !== `${TRACEFS}/trace_pipe`) // never ends: its own tests read it
    .flatMap((url) =>
      url.includes(':pid')
        ? pids.map((pid) => url.replace(':pid', pid))
        : url.includes(':name')
          ? names.map((n) => url.replace(':name', n))
          : [url],
    )
}

describe('a crawl of every GET route', () => {
  it('finds the routes a user reaches first, parameters filled in', () => {
    const urls = getUrls()
    for (const url of [
      '/processes',
      '/processes/1000',
      '/processes/1002',
      '/threads/kscand',
      '/proc/1000/status',
      '/proc/1000/numa_maps',
      '/sys/kernel/mm/kscand',
      '/sim',
    ]) {
      expect(urls).toContain(url)
    }
    expect(urls.length).toBeGreaterThan(100)
  })

  it('never prints [object Object] nor fails, as text or as JSON', async () => {
    const bad: string[] = []
    const failed: string[] = []
    for (const url of getUrls()) {
      for (const accept of ['text/plain', '*/*', 'application/json']) {
        const res = await server.inject({ url, headers: { accept } })
        if (res.body.includes('[object Object]')) bad.push(`${url} (${accept})`)
        // A body the response schema refuses (a key renamed on one side only) is a 500.
        if (res.statusCode >= 500) failed.push(`${url} (${accept}): ${res.statusCode}`)
      }
    }
    expect(bad).toEqual([])
    expect(failed).toEqual([])
  })

  it('answers JSON with snake_case keys at every depth, but for names the kernel gives', async () => {
    const bad: string[] = []
    let bodies = 0
    for (const url of getUrls()) {
      // The OpenAPI document speaks OpenAPI (operationId, additionalProperties): see below.
      if (url === '/openapi.json') continue
      const res = await server.inject({ url, headers: { accept: 'application/json' } })
      if (!String(res.headers['content-type']).startsWith('application/json')) continue
      bodies++
      bad.push(...foreignKeys(res.json(), url.replace(/\/$/, '')))
    }
    expect(bad).toEqual([])
    expect(bodies).toBeGreaterThan(100)
  })

  it('prints a process as its JSON names it, the workload and closed loop readable', async () => {
    const text = (await server.inject({ url: '/processes/1000' })).body
    expect(text).toContain('\nworkload pattern=hotset hot_fraction=0.1 shift_at_ms=3000\n')
    expect(text).toMatch(/^pages_per_node \d+\/\d+\/\d+$/m)
    expect(text).toMatch(
      /^numa numa_scan_seq=\d+ numa_scan_period=\d+ .* scan_ns=\d+ fault_ns=\d+$/m,
    )
    const loop = (await server.inject({ url: '/processes/1002' })).body
    expect(loop).toMatch(
      /^closed_loop threads=4 think_ns=500 accesses=1000000000000 done=[\d.]+ stalled_ns=[\d.]+ finished_at=- time_to_finish_ms=-$/m,
    )
    // Every line's name is a key of the JSON (or of its scan, migration and stall parts).
    const json = (
      await server.inject({ url: '/processes/1002', headers: { accept: 'application/json' } })
    ).json()
    const names = new Set([
      ...Object.keys(json),
      ...Object.keys(json.scan ?? {}),
      ...Object.keys(json.migration ?? {}),
      'stalled',
      'stall_reason',
      'stall_remedy',
    ])
    for (const line of loop.trimEnd().split('\n')) expect(names).toContain(line.split(' ')[0])
  })
})

describe('the documents', () => {
  it('declare snake_case properties only: the HTTP API (openapi.json as served)', async () => {
    const doc = (await server.inject({ url: '/openapi.json' })).json()
    expect(declaredProperties(doc.components)).toEqual([])
    expect(declaredProperties(doc.paths)).toEqual([])
  })

  it('declare snake_case properties only: the event stream (asyncapi.yaml)', () => {
    const doc = parse(readFileSync(new URL('../../asyncapi.yaml', import.meta.url), 'utf8'))
    expect(declaredProperties(doc.components)).toEqual([])
  })
})
