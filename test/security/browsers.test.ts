/**
 * Issue 10, findings 2 and 3, against the real server on 127.0.0.1: what a web page can make
 * a browser send (a simple CORS POST, an HTML form, a no-cors fetch, a JSON write, a
 * websocket; from a foreign origin, or from a name rebound to 127.0.0.1) changes nothing,
 * while what curl sends, with neither Origin nor Sec-Fetch-*, still works.
 */
import { describe, expect, it } from 'vitest'
import { handshake, realServer, send, state } from './helpers.ts'

const server = realServer()
const port = () => server().port
const own = () => `127.0.0.1:${port()}`

/** Every write a page would want to make, as [method, path, body, content type]. */
const WRITES: [string, string, string, string][] = [
  ['POST', '/sys/kernel/mm/kscand/scan_enabled', '0', 'text/plain'],
  ['POST', '/sys/kernel/mm/kscand/scan_sleep_ms', '1', 'text/plain'],
  ['POST', '/threads/kscand/stop', '', 'text/plain'],
  ['POST', '/threads/kmigrated/stop', '', 'text/plain'],
  ['POST', '/processes/1000/fork', '', 'text/plain'],
  ['DELETE', '/processes/1000', '', 'text/plain'],
  ['POST', '/sys/kernel/tracing/tracing_on', '0', 'text/plain'],
  ['POST', '/sys/kernel/tracing/buffer_size_kb', '500000', 'text/plain'],
  ['POST', '/sim/step', '{"ms":1000}', 'application/json'],
  [
    'POST',
    '/processes',
    JSON.stringify({
      comm: 'evil',
      size: 4194304,
      policy: { mode: 'bind', nodes: [0] },
      workload: { pattern: 'uniform' },
    }),
    'application/json',
  ],
]

const EVIL = 'http://evil.example'

/** What Chromium sends for each kind of cross-site request (bar cookies and user agent). */
const PAGE_REQUESTS: Record<string, (type: string) => Record<string, string>> = {
  'a simple CORS fetch': () => ({
    origin: EVIL,
    'sec-fetch-site': 'cross-site',
    'sec-fetch-mode': 'cors',
    'sec-fetch-dest': 'empty',
    'content-type': 'text/plain;charset=UTF-8',
  }),
  'an HTML form': () => ({
    origin: EVIL,
    'sec-fetch-site': 'cross-site',
    'sec-fetch-mode': 'navigate',
    'sec-fetch-dest': 'document',
    'content-type': 'application/x-www-form-urlencoded',
  }),
  'a no-cors fetch': () => ({
    origin: EVIL,
    'sec-fetch-site': 'cross-site',
    'sec-fetch-mode': 'no-cors',
    'sec-fetch-dest': 'empty',
    'content-type': 'text/plain;charset=UTF-8',
  }),
  'a JSON fetch (preflighted, sent anyway)': (type) => ({
    origin: EVIL,
    'sec-fetch-site': 'cross-site',
    'sec-fetch-mode': 'cors',
    'content-type': type,
  }),
  'an old browser (Origin, no Sec-Fetch-*)': () => ({
    origin: EVIL,
    'content-type': 'application/x-www-form-urlencoded',
  }),
  'a page on another localhost port (same-site)': () => ({
    origin: 'http://localhost:3000',
    'sec-fetch-site': 'same-site',
    'sec-fetch-mode': 'no-cors',
    'content-type': 'text/plain;charset=UTF-8',
  }),
  'a sandboxed iframe (Origin: null)': () => ({
    origin: 'null',
    'sec-fetch-site': 'cross-site',
    'content-type': 'application/x-www-form-urlencoded',
  }),
  'a navigation without Origin (Sec-Fetch-Site only)': () => ({
    'sec-fetch-site': 'cross-site',
    'sec-fetch-mode': 'navigate',
    'content-type': 'application/x-www-form-urlencoded',
  }),
}

/** A page on evil.example whose name now resolves to 127.0.0.1: same-origin to the browser. */
const rebound = () => ({
  host: `evil.example:${port()}`,
  origin: `http://evil.example:${port()}`,
  'sec-fetch-site': 'same-origin',
})

describe('requests a web page makes', () => {
  it('refuses every cross-site write (403 EACCES) and changes nothing', async () => {
    const before = await state(port())
    for (const [what, headers] of Object.entries(PAGE_REQUESTS)) {
      for (const [method, path, body, type] of WRITES) {
        const a = await send(
          port(),
          method,
          path,
          { ...headers(type), accept: 'application/json' },
          body,
        )
        expect(a.status, `${what}: ${method} ${path}`).toBe(403)
        expect(JSON.parse(a.body)).toMatchObject({ errno: 13, code: 'EACCES' })
      }
    }
    expect(await state(port())).toEqual(before)
  })

  it('answers a rebinding name 421 on every route, reads, writes and the stream', async () => {
    const before = await state(port())
    for (const path of [
      '/',
      '/threads',
      '/sys/kernel/mm/kscand/scan_enabled',
      '/healthz',
      '/metrics',
      '/nosuch',
    ]) {
      const a = await send(port(), 'GET', path, { ...rebound(), accept: 'application/json' })
      expect(a.status, `GET ${path}`).toBe(421)
      expect(JSON.parse(a.body)).toMatchObject({ errno: 13, code: 'EACCES' })
    }
    for (const [method, path, body, type] of WRITES) {
      const a = await send(port(), method, path, { ...rebound(), 'content-type': type }, body)
      expect(a.status, `${method} ${path}`).toBe(421)
      expect(a.body).toMatch(/^write error: Permission denied\n$/)
    }
    expect(await handshake(port(), '/events', rebound())).toBe(421)
    expect(await state(port())).toEqual(before)
  })

  it('refuses a websocket from a foreign origin, with or without a rebound name', async () => {
    expect(await handshake(port(), '/events', { origin: EVIL })).toBe(403)
    expect(await handshake(port(), '/events', { origin: 'http://localhost:3000' })).toBe(403)
    expect(await handshake(port(), '/events', { origin: `http://${own()}` })).toBe(101)
    const localhost = { host: `localhost:${port()}`, origin: `http://localhost:${port()}` }
    expect(await handshake(port(), '/events', localhost)).toBe(101)
    expect(await handshake(port(), '/events')).toBe(101)
  })

  it('lets the daemon’s own page write (same origin)', async () => {
    const path = '/sys/kernel/mm/kscand/scan_sleep_ms'
    const headers = { origin: `http://${own()}`, 'sec-fetch-site': 'same-origin' }
    const type = { 'content-type': 'application/json' }
    const set = await send(port(), 'PUT', path, { ...headers, ...type }, '{"value": 77}')
    expect(set.status).toBe(200)
    expect((await send(port(), 'GET', path)).body).toBe('77\n')
    expect((await send(port(), 'PUT', path, { ...headers, ...type }, '{"value": 20}')).status).toBe(
      200,
    )
  })
})

describe('requests curl makes', () => {
  const path = '/sys/kernel/mm/kscand/scan_sleep_ms'
  const curl = { 'user-agent': 'curl/7.88.1', accept: '*/*' }

  it('still work: -d (a form POST), -T - (a PUT), JSON, thread stop/start', async () => {
    const form = { ...curl, 'content-type': 'application/x-www-form-urlencoded' }
    expect((await send(port(), 'POST', path, form, '100')).body).toBe('100\n')
    expect((await send(port(), 'GET', path, curl)).body).toBe('100\n')
    expect((await send(port(), 'PUT', path, curl, '200\n')).body).toBe('200\n')
    const json = { ...curl, 'content-type': 'application/json' }
    expect((await send(port(), 'PUT', path, json, '{"value": 20}')).status).toBe(200)
    expect((await send(port(), 'POST', '/threads/kscand/stop', curl)).status).toBe(200)
    expect((await send(port(), 'POST', '/threads/kscand/start', curl)).status).toBe(200)
  })

  it('work under every loopback name, with or without the port', async () => {
    for (const host of [
      '127.0.0.1',
      'localhost',
      '[::1]',
      `localhost:${port()}`,
      `[::1]:${port()}`,
    ]) {
      expect((await send(port(), 'GET', path, { ...curl, host })).status, host).toBe(200)
    }
    for (const host of [
      'evil.example',
      'localhost.',
      'localhost.evil.example',
      '127.0.0.1.nip.io',
      '',
    ]) {
      expect((await send(port(), 'GET', path, { ...curl, host })).status, host).toBe(421)
    }
  })
})

describe('ALLOWED_HOSTS and ALLOWED_ORIGINS', () => {
  const svc = 'kscand-sim.sim.svc.cluster.local'
  const configured = realServer({
    ALLOWED_HOSTS: `${svc}, 10.0.0.7:8080`,
    ALLOWED_ORIGINS: 'https://dash.example',
  })
  const p = () => configured().port
  const path = '/sys/kernel/mm/kscand/scan_sleep_ms'

  it('answer the listed names and any IP literal, and 421 to others', async () => {
    for (const host of [svc, `${svc}:8080`, '10.0.0.7:8080', '192.0.2.1', '[2001:db8::1]:80']) {
      expect((await send(p(), 'GET', path, { host })).status, host).toBe(200)
    }
    for (const host of ['10.0.0.7.example', `${svc}.evil.example`, 'evil.example']) {
      expect((await send(p(), 'GET', path, { host })).status, host).toBe(421)
    }
  })

  it('let pages of a listed origin, and of a listed name, write; no others', async () => {
    const json = { 'content-type': 'application/json' }
    const write = (headers: Record<string, string>) =>
      send(p(), 'PUT', path, { ...json, ...headers }, '{"value": 20}')
    const dash = { origin: 'https://dash.example', 'sec-fetch-site': 'cross-site' }
    expect((await write(dash)).status).toBe(200)
    const svcPage = { host: svc, origin: `http://${svc}`, 'sec-fetch-site': 'same-origin' }
    expect((await write(svcPage)).status).toBe(200)
    const proxied = { host: svc, origin: `https://${svc}`, 'sec-fetch-site': 'same-origin' }
    expect((await write(proxied)).status).toBe(200)
    const other = { origin: 'https://dash.example:8443', 'sec-fetch-site': 'cross-site' }
    expect((await write(other)).status).toBe(403)
    expect(await handshake(p(), '/events', { origin: 'https://dash.example' })).toBe(101)
    expect(await handshake(p(), '/events', { origin: 'https://evil.example' })).toBe(403)
  })
})
