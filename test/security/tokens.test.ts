/**
 * Issue 10, findings 5 and 6 (the web-facing part), against the real server on 127.0.0.1:
 * the read token guards reads, /metrics and the stream (the probes and the dashboard's files
 * stay open); tokens are read from files and checked at boot; one address cannot take every
 * stream slot.
 */
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { TOKEN_PROTOCOL } from '../../src/http/auth.ts'
import { runToExit, startServer, tempDirs } from '../helpers/process.ts'
import { handshake, realServer, send } from './helpers.ts'

const READ = 'read-token-0123456789abcdef'
const WRITE = 'write-token-0123456789abcdef'
const bearer = (t: string) => ({ authorization: `Bearer ${t}` })
const subprotocol = (t: string) => `${TOKEN_PROTOCOL}${Buffer.from(t).toString('base64url')}`

describe('the read token', () => {
  const dirs = tempDirs()
  const server = realServer({ KSCAND_SIM_READ_TOKEN: READ, KSCAND_SIM_TOKEN: WRITE })
  const port = () => server().port

  it('guards every read and /metrics; the read or the write token lets them through', async () => {
    for (const path of [
      '/threads',
      '/processes',
      '/proc/vmstat',
      '/sys/kernel/mm/kscand/',
      '/sim',
      '/metrics',
      '/nosuch',
    ]) {
      const a = await send(port(), 'GET', path)
      expect(a.status, path).toBe(401)
      expect(a.headers['www-authenticate']).toBe('Bearer realm="kscand-sim"')
      expect((await send(port(), 'GET', path, bearer('wrong-token-0123456789'))).status).toBe(401)
      expect((await send(port(), 'GET', path, bearer(READ))).status, path).not.toBe(401)
      expect((await send(port(), 'GET', path, bearer(WRITE))).status, path).not.toBe(401)
    }
  })

  it('leaves the probes, the dashboard files and the API documents open', async () => {
    for (const path of [
      '/healthz',
      '/readyz',
      '/',
      '/js/api.js',
      '/openapi.yaml',
      '/asyncapi.yaml',
    ]) {
      expect((await send(port(), 'GET', path)).status, path).toBe(200)
    }
  })

  it('guards the stream: as a subprotocol or a bearer header', async () => {
    expect(await handshake(port(), '/events')).toBe(401)
    expect(await handshake(port(), '/events', {}, ['kscand-sim.v1', subprotocol('nope')])).toBe(401)
    expect(await handshake(port(), '/events', {}, ['kscand-sim.v1', subprotocol(READ)])).toBe(101)
    expect(await handshake(port(), '/events', bearer(READ))).toBe(101)
    expect((await send(port(), 'GET', '/events')).status).toBe(401)
  })

  it('does not grant writes', async () => {
    const path = '/sys/kernel/mm/kscand/scan_sleep_ms'
    expect((await send(port(), 'POST', path, bearer(READ), '100')).status).toBe(401)
    expect((await send(port(), 'POST', path, bearer(WRITE), '20')).status).toBe(200)
  })

  it('comes from a file, one trailing newline dropped', async () => {
    const dir = dirs()
    const file = join(dir, 'read-token')
    writeFileSync(file, `${READ}\n`)
    const p = await startServer({ KSCAND_SIM_READ_TOKEN_FILE: file })
    try {
      expect((await send(p.port, 'GET', '/threads', bearer(READ))).status).toBe(200)
      expect((await send(p.port, 'GET', '/threads')).status).toBe(401)
    } finally {
      p.child.kill('SIGTERM')
      await p.exited
    }
    const r = await runToExit({ KSCAND_SIM_READ_TOKEN_FILE: file, KSCAND_SIM_READ_TOKEN: READ })
    expect(r.code).toBe(2)
    expect(r.stderr).toBe(
      'kscand-sim: bad environment: set KSCAND_SIM_READ_TOKEN or KSCAND_SIM_READ_TOKEN_FILE, not both\n',
    )
  })
})

describe('a read token alone', () => {
  const server = realServer({ KSCAND_SIM_READ_TOKEN: READ })
  const port = () => server().port

  it('guards the writes too: nobody is distinguished as a writer', async () => {
    const path = '/sys/kernel/mm/kscand/scan_sleep_ms'
    expect((await send(port(), 'POST', path, {}, '100')).status).toBe(401)
    expect((await send(port(), 'GET', path, bearer(READ))).body).toBe('20\n')
    expect((await send(port(), 'POST', path, bearer(READ), '30')).body).toBe('30\n')
  })
})

describe('tokens at boot', () => {
  const dirs = tempDirs()
  const refused = async (env: Record<string, string>, message: RegExp) => {
    const r = await runToExit({ PORT: '0', ...env })
    expect(r.code, r.stderr).toBe(2)
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1)
    expect(r.stderr).toMatch(message)
    // A token is never echoed.
    for (const [k, v] of Object.entries(env))
      if (k.endsWith('TOKEN')) expect(r.stderr).not.toContain(v)
  }

  it('refuses a short token off loopback, and whitespace or control characters anywhere', async () => {
    await refused(
      { HOST: '0.0.0.0', KSCAND_SIM_TOKEN: 'x' },
      /KSCAND_SIM_TOKEN: 1 characters; off loopback a token has at least 16/,
    )
    await refused(
      { KSCAND_SIM_TOKEN: 'has a space in it ok' },
      /KSCAND_SIM_TOKEN: only visible ASCII/,
    )
    await refused(
      { KSCAND_SIM_READ_TOKEN: 'tab\tinside-0123456789' },
      /KSCAND_SIM_READ_TOKEN: only visible ASCII/,
    )
  })

  it('refuses a token file that is missing or not a regular file (a FIFO would hang the boot)', async () => {
    const dir = dirs()
    const fifo = join(dir, 'fifo')
    execFileSync('mkfifo', [fifo])
    await refused(
      { KSCAND_SIM_TOKEN_FILE: fifo },
      /KSCAND_SIM_TOKEN_FILE=".*fifo": not a regular file/,
    )
    await refused({ KSCAND_SIM_TOKEN_FILE: join(dir, 'nosuch') }, /cannot read it: ENOENT/)
  })
})

describe('streams from one address', () => {
  const server = realServer({ MAX_STREAMS_PER_ADDRESS: '3' })
  const port = () => server().port

  it('are capped (429 beyond it), and a closed one frees its slot', async () => {
    const { default: WebSocket } = await import('ws')
    const open = async () => {
      const ws = new WebSocket(`ws://127.0.0.1:${port()}/events`)
      await new Promise((resolve, reject) => {
        ws.once('open', resolve)
        ws.once('error', reject)
      })
      return ws
    }
    const held = [await open(), await open(), await open()]
    expect(await handshake(port(), '/events')).toBe(429)
    const closed = new Promise((resolve) => held[0].once('close', resolve))
    held[0].close()
    await closed
    // The server counts the slot free once it has seen the close.
    let status = 0
    for (let i = 0; i < 100 && status !== 101; i++) {
      status = await handshake(port(), '/events')
      if (status !== 101) await new Promise((r) => setTimeout(r, 20))
    }
    expect(status).toBe(101)
    for (const ws of held) ws.terminate()
  })
})
