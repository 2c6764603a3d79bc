/** The sysfs tree over HTTP, through fastify.inject: reads, writes, rejections. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { EVENTS, type TraceEvent } from '../../src/kernel/trace.ts'
import { VMSTAT_NAMES } from '../../src/kernel/vmstat.ts'
import { type Built, build, FORM, JSON_ACCEPT, TOKEN } from '../helpers/http.ts'

const K = '/sys/kernel/mm/kscand'

let t: Built
beforeEach(async () => {
  t = await build()
})
afterEach(() => t.close())

const get = (url: string, headers = {}) => t.server.inject({ method: 'GET', url, headers })
const put = (
  url: string,
  payload: string | Buffer | object,
  headers: Record<string, string> = {},
) => t.server.inject({ method: 'PUT', url, payload, headers })
const post = (
  url: string,
  payload: string | Buffer | object,
  headers: Record<string, string> = FORM,
) => t.server.inject({ method: 'POST', url, payload, headers })

/** Every file's text, and the kscand state a write could disturb. */
function state() {
  const k = t.kernel
  return {
    files: t.files.map((f) => f.show()),
    sleepExpire: k.kscand.sleep_expire,
    needWakeup: k.kscand.need_wakeup,
    kscand: { ...k.kscand.thread, gen: null, body: null, sched: null },
  }
}

describe('reads', () => {
  it('answer exactly what cat prints, as text/plain with an ETag', async () => {
    const r = await get(`${K}/scan_sleep_ms`)
    expect(r.statusCode).toBe(200)
    expect(r.body).toBe('20\n')
    expect(r.headers['content-type']).toBe('text/plain; charset=utf-8')
    expect(r.headers.etag).toMatch(/^"[0-9a-f]{8}"$/)
  })

  it('have the V3 defaults', async () => {
    const expected: Record<string, string> = {
      scan_enabled: '1\n',
      scan_sleep_ms: '20\n',
      mm_scan_period_ms: '2000\n',
      mms_to_scan: '4096\n',
      target_node: '0\n',
    }
    for (const [name, text] of Object.entries(expected)) {
      expect((await get(`${K}/${name}`)).body).toBe(text)
    }
    expect((await get('/sys/kernel/mm/kmigrated/kmigrate_sleep_ms')).body).toBe('20\n')
    expect((await get('/sys/kernel/mm/kmigrated/quirks/kmigrated_sticky_slot')).body).toBe('1\n')
    expect((await get('/sys/kernel/mm/numa/demotion_enabled')).body).toBe('true\n')
  })

  it('give every file of the table, each ending in a newline, with JSON beside it', async () => {
    for (const f of t.files) {
      const text = await get(f.path)
      expect(text.statusCode, f.path).toBe(200)
      expect(text.body, f.path).toMatch(/\n$/)
      const json = await get(f.path, JSON_ACCEPT)
      expect(json.headers['content-type']).toBe('application/json; charset=utf-8')
      expect(json.headers.etag).toBe(`${text.headers.etag?.slice(0, -1)}-json"`)
      expect(json.json()).toEqual({
        path: f.path,
        mode: f.mode === 0o644 ? '0644' : '0444',
        value: f.json(),
      })
    }
  })

  it('show topology the way the kernel prints it', async () => {
    // The whole file is pinned in test/http/procfs-memory.test.ts.
    const meminfo = (await get('/sys/devices/system/node/node2/meminfo')).body
    expect(meminfo.split('\n').slice(0, 3)).toEqual([
      'Node 2 MemTotal:         131072 kB',
      'Node 2 MemFree:          131072 kB',
      'Node 2 MemUsed:               0 kB',
    ])
    expect((await get('/sys/devices/virtual/memory_tiering/memory_tier4/nodelist')).body).toBe(
      '0-1\n',
    )
    expect((await get('/sys/devices/virtual/memory_tiering/memory_tier22/nodelist')).body).toBe(
      '2\n',
    )
    expect((await get('/sys/devices/system/node/has_cpu')).body).toBe('0-1\n')
    expect((await get('/sys/devices/system/node/online')).body).toBe('0-2\n')
    expect((await get('/sys/devices/system/node/node0/distance')).body).toBe('10 32 50\n')
  })

  it('follow free memory as processes come and go', async () => {
    t.kernel.exec({ comm: 'a', size: 16 * 1024 * 1024, policy: { mode: 'bind', nodes: [2] } })
    const r = await get('/sys/devices/system/node/node2/meminfo', JSON_ACCEPT)
    expect(r.json().value.slice(0, 3)).toEqual([
      { name: 'MemTotal', value: 131072, unit: 'kB' },
      { name: 'MemFree', value: 131072 - 16384, unit: 'kB' },
      { name: 'MemUsed', value: 16384, unit: 'kB' },
    ])
  })

  it('serve /proc/vmstat as name value lines with the nr_kscand counters', async () => {
    t.kernel.exec({ comm: 'a', size: 4 * 1024 * 1024, policy: { mode: 'bind', nodes: [2] } })
    t.kernel.advance(5000)
    const r = await get('/proc/vmstat')
    const lines = r.body.trimEnd().split('\n')
    // Every counter the kernel keeps is there with its value (the full file is pinned in
    // test/http/procfs-memory.test.ts).
    for (const name of VMSTAT_NAMES) expect(lines).toContain(`${name} ${t.kernel.vmstat.get(name)}`)
    // The kernel's names hold digits too (pgalloc_dma32).
    for (const line of lines) expect(line).toMatch(/^[a-z][a-z0-9_]* \d+$/)
    expect(lines.filter((l) => l.startsWith('nr_kscand_'))).toHaveLength(10)
    expect(Number(r.body.match(/^nr_kscand_mm_scans (\d+)$/m)?.[1])).toBeGreaterThan(0)
  })

  it('answer 304 to If-None-Match with the current tag', async () => {
    const tag = (await get(`${K}/scan_sleep_ms`)).headers.etag as string
    const r = await get(`${K}/scan_sleep_ms`, { 'if-none-match': tag })
    expect(r.statusCode).toBe(304)
    expect(r.body).toBe('')
  })

  it('pick JSON or text by Accept, text on ties', async () => {
    const type = async (accept: string) =>
      (await get(`${K}/target_node`, { accept })).headers['content-type']
    expect(await type('*/*')).toMatch(/^text\/plain/)
    expect(await type('text/plain;q=0.5, application/json')).toMatch(/^application\/json/)
    expect(await type('application/json;q=0, */*')).toMatch(/^text\/plain/)
    expect(await type('application/*')).toMatch(/^application\/json/)
    expect(await type('text/*, application/json')).toMatch(/^text\/plain/)
  })
})

describe('directories', () => {
  it('list entries like ls, with or without the trailing slash', async () => {
    const names = 'mm_scan_period_ms\nmms_to_scan\nscan_enabled\nscan_sleep_ms\ntarget_node\n'
    expect((await get(K)).body).toBe(names)
    expect((await get(`${K}/`)).body).toBe(names)
    expect((await get('/sys/kernel/mm')).body).toBe('kmigrated\nkscand\nnuma\n')
    expect((await get('/sys/kernel/mm/kmigrated')).body).toBe('kmigrate_sleep_ms\nquirks\n')
  })

  it('give value, mode and doc of each file as JSON', async () => {
    const r = await get('/sys/kernel/mm/kmigrated', JSON_ACCEPT)
    const { path, entries } = r.json()
    expect(path).toBe('/sys/kernel/mm/kmigrated')
    expect(entries[0]).toMatchObject({
      name: 'kmigrate_sleep_ms',
      type: 'file',
      mode: '0644',
      value: 20,
      extension: true,
    })
    expect(entries[0].doc).toMatch(/Extension/)
    expect(entries[1]).toEqual({ name: 'quirks', type: 'dir' })
  })

  it('change their ETag when a value in them changes', async () => {
    const before = (await get(K, JSON_ACCEPT)).headers.etag
    await post(`${K}/scan_sleep_ms`, '7')
    expect((await get(K, JSON_ACCEPT)).headers.etag).not.toBe(before)
  })
})

describe('writes', () => {
  it('take the body curl -d sends and answer with the new value', async () => {
    const r = await post(`${K}/scan_sleep_ms`, '100')
    expect(r.statusCode).toBe(200)
    expect(r.body).toBe('100\n')
    expect(t.kernel.kscand.scan_sleep_ms).toBe(100)
    expect((await get(`${K}/scan_sleep_ms`)).body).toBe('100\n')
  })

  it('take PUT with the newline of echo, text/plain, octet-stream, no type, and JSON', async () => {
    expect((await put(`${K}/scan_sleep_ms`, '101\n')).body).toBe('101\n')
    expect((await put(`${K}/scan_sleep_ms`, '102', { 'content-type': 'text/plain' })).body).toBe(
      '102\n',
    )
    expect(
      (
        await put(`${K}/scan_sleep_ms`, Buffer.from('103\n'), {
          'content-type': 'application/octet-stream',
        })
      ).body,
    ).toBe('103\n')
    expect((await put(`${K}/scan_sleep_ms`, { value: 104 })).body).toBe('104\n')
    expect((await put(`${K}/scan_sleep_ms`, { value: '105\n' })).body).toBe('105\n')
    const json = await put(`${K}/scan_sleep_ms`, { value: 106 }, JSON_ACCEPT)
    expect(json.json()).toEqual({ path: `${K}/scan_sleep_ms`, mode: '0644', value: 106 })
  })

  it('of zero length succeed and change nothing, as sysfs_kf_write returns 0 for them', async () => {
    await t.close()
    t = await build({ log: true })
    const before = state()
    for (const r of [
      await put(`${K}/scan_sleep_ms`, ''),
      await post(`${K}/scan_sleep_ms`, ''),
      await put(`${K}/scan_sleep_ms`, { value: '' }),
      await t.server.inject({ method: 'PUT', url: `${K}/scan_enabled` }),
    ]) {
      expect(r.statusCode).toBe(200)
    }
    expect((await put(`${K}/scan_sleep_ms`, '')).body).toBe('20\n')
    expect(state()).toEqual(before)
    // kscand was not woken (the store never ran) and no write was logged as accepted.
    expect(t.logs.join('')).not.toContain('write accepted')
  })

  it('wake kscand at once', async () => {
    t.kernel.advance(3000)
    expect(t.kernel.kscand.thread.state).toBe('sleeping')
    await post(`${K}/scan_sleep_ms`, '5000')
    expect(t.kernel.kscand.thread.state).toBe('running')
    expect(t.kernel.kscand.thread.last_wake).toBe(t.kernel.now)
    expect(t.kernel.kscand.sleep_expire).toBe(0)
  })

  it('clamp mm_scan_period_ms to [600, 5000]', async () => {
    expect((await post(`${K}/mm_scan_period_ms`, '10')).body).toBe('600\n')
    expect((await post(`${K}/mm_scan_period_ms`, '4294967295')).body).toBe('5000\n')
    expect((await post(`${K}/mm_scan_period_ms`, '1234')).body).toBe('1234\n')
  })

  it('take any u64 in mms_to_scan and print it back exactly', async () => {
    expect((await post(`${K}/mms_to_scan`, '18446744073709551615')).body).toBe(
      '18446744073709551615\n',
    )
    const json = await get(`${K}/mms_to_scan`, JSON_ACCEPT)
    expect(json.json().value).toBe('18446744073709551615')
    expect((await post(`${K}/mms_to_scan`, '0')).body).toBe('0\n')
    expect((await get(`${K}/mms_to_scan`, JSON_ACCEPT)).json().value).toBe(0)
  })

  it('take only top-tier nodes in target_node', async () => {
    expect((await post(`${K}/target_node`, '1')).body).toBe('1\n')
    for (const bad of ['2', '3', '-1', '64']) {
      const r = await post(`${K}/target_node`, bad)
      expect(r.statusCode, bad).toBe(400)
    }
    expect(t.kernel.kscand.target_node).toBe(1)
  })

  it('take kstrtobool input in demotion_enabled and quirks, reading true/false and 0/1', async () => {
    const D = '/sys/kernel/mm/numa/demotion_enabled'
    expect((await post(D, 'off')).body).toBe('false\n')
    expect((await put(D, 'Yes please\n')).body).toBe('true\n')
    expect((await put(D, { value: false })).body).toBe('false\n')
    expect(t.kernel.demotion_enabled).toBe(false)
    const Q = '/sys/kernel/mm/kmigrated/quirks/kmigrated_sticky_slot'
    expect((await post(Q, 'n')).body).toBe('0\n')
    expect(t.kernel.quirks.kmigrated_sticky_slot).toBe(false)
    expect((await post(D, 'maybe')).statusCode).toBe(400)
  })

  it('set kmigrate_sleep_ms and end the current wait', async () => {
    expect((await post('/sys/kernel/mm/kmigrated/kmigrate_sleep_ms', '50')).body).toBe('50\n')
    expect(t.kernel.kmigrated.kmigrate_sleep_ms).toBe(50)
  })

  it('stop reading at a NUL, as the store gets a C string', async () => {
    expect((await post(`${K}/scan_sleep_ms`, Buffer.from('42\n\0\xff\xfe', 'latin1'))).body).toBe(
      '42\n',
    )
  })

  it('are logged (path, old, new, client, never the token) and traced as sysfs_write', async () => {
    await t.close()
    t = await build({ token: TOKEN, log: true })
    const events: TraceEvent[] = []
    t.kernel.tracer.subscribe((e) => events.push(e))
    const r = await post(`${K}/scan_sleep_ms`, '33', { ...FORM, authorization: `Bearer ${TOKEN}` })
    expect(r.statusCode).toBe(200)
    const lines = t.logs.map((l) => JSON.parse(l))
    const entry = lines.find((l) => l.msg === 'write accepted')
    expect(entry).toMatchObject({
      path: `${K}/scan_sleep_ms`,
      old: '20',
      new: '33',
      client: '127.0.0.1',
    })
    expect(t.logs.join('')).not.toContain(TOKEN)
    const w = events.filter((e) => EVENTS[e.id].name === 'sysfs_write')
    expect(w).toEqual([
      {
        ts: t.kernel.now * 1000,
        pid: 0,
        comm: 'http',
        id: w[0].id,
        args: [`${K}/scan_sleep_ms`, '20', '33'],
      },
    ])
  })
})

describe('rejected writes', () => {
  const rejected: [string, string | Buffer][] = [
    ['leading space', ' 100'],
    ['trailing space', '100 '],
    ['two newlines', '100\n\n'],
    ['CRLF', '100\r\n'],
    ['hex', '0x10'],
    ['negative', '-1'],
    ['past 2^32', '4294967296'],
    ['past 2^64', '18446744073709551616'],
    ['just a newline', '\n'],
    ['binary', Buffer.from([0xff, 0xfe, 0x00, 0x31])],
    ['a float', '1.5'],
    ['words', 'twenty'],
  ]

  it.each(rejected)(
    '%s: 400 write error: Invalid argument, and nothing changes',
    async (_name, body) => {
      const before = state()
      const r = await post(`${K}/scan_sleep_ms`, body)
      expect(r.statusCode).toBe(400)
      expect(r.headers['content-type']).toBe('text/plain; charset=utf-8')
      expect(r.body).toBe('write error: Invalid argument\n')
      expect(state()).toEqual(before)
    },
  )

  it('give {errno, code, message} as JSON', async () => {
    const r = await post(`${K}/scan_enabled`, '2', { ...FORM, ...JSON_ACCEPT })
    expect(r.statusCode).toBe(400)
    expect(r.json()).toMatchObject({
      errno: 22,
      code: 'EINVAL',
      message: 'write error: Invalid argument',
    })
    expect(r.json().detail).toMatch(/scan_enabled takes 0 or 1/)
  })

  it.each([
    ['null value', { value: null }],
    ['array value', { value: [1] }],
    ['object value', { value: { n: 1 } }],
    ['no value', {}],
    ['unknown field', { value: 1, force: true }],
    ['a bare array', [1]],
    ['a fraction', { value: 1.5 }],
    ['beyond 2^53', { value: 2 ** 60 }],
  ])('JSON of the wrong shape (%s) is EINVAL', async (_name, payload) => {
    const before = state()
    const r = await put(`${K}/scan_sleep_ms`, JSON.stringify(payload), {
      'content-type': 'application/json',
      ...JSON_ACCEPT,
    })
    expect(r.statusCode).toBe(400)
    expect(r.json().code).toBe('EINVAL')
    expect(state()).toEqual(before)
  })

  it('malformed JSON is EINVAL', async () => {
    const r = await put(`${K}/scan_sleep_ms`, '{"value": ', { 'content-type': 'application/json' })
    expect(r.statusCode).toBe(400)
    expect(r.body).toBe('write error: Invalid argument\n')
  })

  it('a body over one page is 413 E2BIG', async () => {
    const before = state()
    const r = await post(`${K}/scan_sleep_ms`, '1'.repeat(4097), { ...FORM, ...JSON_ACCEPT })
    expect(r.statusCode).toBe(413)
    expect(r.json()).toMatchObject({ errno: 7, code: 'E2BIG' })
    const json = await put(`${K}/scan_sleep_ms`, JSON.stringify({ value: '1'.repeat(5000) }), {
      'content-type': 'application/json',
    })
    expect(json.statusCode).toBe(413)
    expect(state()).toEqual(before)
  })

  it('writing a 0444 file is 403 EACCES', async () => {
    for (const path of [
      '/proc/vmstat',
      '/sys/devices/system/node/node0/meminfo',
      '/sys/devices/virtual/memory_tiering/memory_tier4/nodelist',
    ]) {
      const r = await put(path, '1', JSON_ACCEPT)
      expect(r.statusCode, path).toBe(403)
      expect(r.json()).toMatchObject({
        errno: 13,
        code: 'EACCES',
        message: 'write error: Permission denied',
      })
    }
  })

  it('If-Match with a stale ETag is 412 and changes nothing', async () => {
    const tag = (await get(`${K}/scan_sleep_ms`)).headers.etag as string
    const jsonTag = (await get(`${K}/scan_sleep_ms`, JSON_ACCEPT)).headers.etag as string
    expect(
      (await post(`${K}/scan_sleep_ms`, '30', { ...FORM, 'if-match': jsonTag })).statusCode,
    ).toBe(200)
    const before = state()
    const r = await post(`${K}/scan_sleep_ms`, '40', { ...FORM, 'if-match': tag, ...JSON_ACCEPT })
    expect(r.statusCode).toBe(412)
    expect(r.json()).toMatchObject({ code: 'ESTALE' })
    expect(state()).toEqual(before)
    const fresh = (await get(`${K}/scan_sleep_ms`)).headers.etag as string
    expect((await post(`${K}/scan_sleep_ms`, '40', { ...FORM, 'if-match': fresh })).body).toBe(
      '40\n',
    )
  })
})

describe('paths and methods', () => {
  it('an unknown path is 404 ENOENT', async () => {
    for (const path of [
      `${K}/nope`,
      '/sys/kernel/mm/kscand%2Fscan_sleep_ms',
      '//sys/kernel/mm/kscand',
      '/sys/kernel/mm/kscand/scan_sleep_ms%00',
      `${K}/..%2F..%2F`,
    ]) {
      const r = await get(path, JSON_ACCEPT)
      expect(r.statusCode, path).toBe(404)
      expect(r.json().code, path).toBe('ENOENT')
    }
    expect((await get(`${K}/nope`)).body).toBe(`${K}/nope: No such file or directory\n`)
    expect((await post(`${K}/nope`, '1')).body).toBe('write error: No such file or directory\n')
  })

  it('a malformed %-escape or an over-long parameter is a 4xx with the usual bodies', async () => {
    const bad = await get('/sys/kernel/mm/%ZZ', JSON_ACCEPT)
    expect(bad.statusCode).toBe(400)
    expect(bad.json()).toMatchObject({ errno: 22, code: 'EINVAL' })
    expect((await get('/processes/%FF')).body).toBe('/processes/%FF: Invalid argument\n')
    const long = await get(`/processes/${'1'.repeat(200)}`)
    expect(long.statusCode).toBe(414)
    expect(long.body).toMatch(/Invalid argument\n$/)
  })

  it('a file with a trailing slash is 404 ENOTDIR', async () => {
    const r = await get(`${K}/scan_sleep_ms/`)
    expect(r.statusCode).toBe(404)
    expect(r.body).toBe(`${K}/scan_sleep_ms/: Not a directory\n`)
    expect((await post(`${K}/scan_sleep_ms/`, '1')).statusCode).toBe(404)
    expect(t.kernel.kscand.scan_sleep_ms).toBe(20)
  })

  it('a method that does not apply is 405 with Allow', async () => {
    const del = await t.server.inject({ method: 'DELETE', url: `${K}/scan_sleep_ms` })
    expect(del.statusCode).toBe(405)
    expect(del.headers.allow).toBe('GET, HEAD, POST, PUT')
    expect(del.body).toBe('write error: Operation not supported\n')
    const ro = await t.server.inject({ method: 'PATCH', url: '/proc/vmstat' })
    expect(ro.statusCode).toBe(405)
    expect(ro.headers.allow).toBe('GET, HEAD')
    const opt = await t.server.inject({ method: 'OPTIONS', url: `${K}/scan_sleep_ms` })
    expect(opt.statusCode).toBe(204)
    expect(opt.headers.allow).toBe('GET, HEAD, POST, PUT')
  })

  it('a write to a directory is EISDIR (405 with Allow), with or without its slash', async () => {
    const before = state()
    for (const url of [K, `${K}/`, '/sys', '/proc', '/proc/', '/proc/sys/kernel/']) {
      for (const method of ['PUT', 'POST', 'PATCH'] as const) {
        const r = await t.server.inject({ method, url, payload: '1', headers: FORM })
        expect(r.statusCode, `${method} ${url}`).toBe(405)
        expect(r.headers.allow, `${method} ${url}`).toBe('GET, HEAD')
        expect(r.body).toBe('write error: Is a directory\n')
      }
    }
    const json = await put(K, '1', { ...FORM, ...JSON_ACCEPT })
    expect(json.json()).toMatchObject({ errno: 21, code: 'EISDIR' })
    expect(json.json().detail).toBe(`${K} is a directory (allowed: GET, HEAD)`)
    // Not a write: DELETE of a directory is the method that does not apply.
    const del = await t.server.inject({ method: 'DELETE', url: K })
    expect(del.statusCode).toBe(405)
    expect(del.body).toBe('write error: Operation not supported\n')
    expect(state()).toEqual(before)
  })

  it('HEAD answers like GET without a body', async () => {
    const r = await t.server.inject({ method: 'HEAD', url: `${K}/scan_sleep_ms` })
    expect(r.statusCode).toBe(200)
    expect(r.headers.etag).toBeDefined()
    expect(r.body).toBe('')
  })
})
