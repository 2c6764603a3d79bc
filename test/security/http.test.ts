/**
 * Issue 10, finding 6 (the web-facing part), against the real server on 127.0.0.1: a token
 * put in a query string never reaches the log; every method fastify or node's parser refuses
 * gets our errno body; SIGHUP stops the daemon as SIGTERM does (README, Security).
 */
import { connect } from 'node:net'
import { describe, expect, it } from 'vitest'
import { NO_SHEDDING, startServer } from '../helpers/process.ts'
import { handshake, realServer, send } from './helpers.ts'

const SECRET = 'query-secret-0123456789'
const server = realServer({ REQUEST_LOG_LEVEL: 'info' })
const port = () => server().port

/** Sends `head` as raw bytes and reads until the server closes. */
function raw(head: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(port(), '127.0.0.1')
    let out = ''
    sock.on('data', (d) => {
      out += d
    })
    sock.on('error', reject)
    sock.on('close', () => resolve(out))
    sock.write(head.replace(/\n/g, '\r\n'))
  })
}

describe('request logs', () => {
  it('never show a query string: a token put there stays out of the log', async () => {
    await send(port(), 'GET', `/threads?token=${SECRET}`)
    await send(port(), 'GET', `/nosuch?access_token=${SECRET}`)
    await send(port(), 'POST', `/sys/kernel/mm/kscand/scan_sleep_ms?token=${SECRET}`, {}, '20')
    await handshake(port(), `/events?token=${SECRET}`)
    await handshake(port(), `/events?events=nosuch&token=${SECRET}`)
    const log = () => server().stdout()
    await expect.poll(() => log().includes('/nosuch?[redacted]')).toBe(true)
    await expect.poll(() => log().includes('/events?[redacted]')).toBe(true)
    expect(log()).toContain('"url":"/threads?[redacted]"')
    expect(log()).not.toContain(SECRET)
  })
})

describe('methods nobody routes', () => {
  it('are 501 with our body (PROPFIND, PURGE, TRACE, …), on files and elsewhere', async () => {
    for (const method of ['PROPFIND', 'PURGE', 'TRACE', 'SEARCH', 'MKCOL', 'LINK']) {
      for (const path of ['/sys/kernel/mm/kscand/scan_enabled', '/nosuch']) {
        const a = await send(port(), method, path, { accept: 'application/json' })
        expect(a.status, `${method} ${path}`).toBe(501)
        expect(JSON.parse(a.body)).toMatchObject({ errno: 95, code: 'EOPNOTSUPP' })
      }
    }
  })

  it('are 400 with our body when node’s parser refuses them (FOO)', async () => {
    const answer = await raw('FOO /sys/kernel/mm/kscand/scan_enabled HTTP/1.1\nHost: 127.0.0.1\n\n')
    expect(answer).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/)
    expect(answer).toMatch(/\r\n\r\nrequest error: Invalid argument \(HPE_INVALID_METHOD\)\n$/)
    const big = `GET / HTTP/1.1\nHost: 127.0.0.1\nX-Big: ${'x'.repeat(20_000)}\n\n`
    expect(await raw(big)).toMatch(/^HTTP\/1\.1 431 [\s\S]*request error: Argument list too long/)
  })

  it('leave the writes they name undone', async () => {
    const path = '/sys/kernel/mm/kscand/scan_sleep_ms'
    const before = (await send(port(), 'GET', path)).body
    await send(port(), 'PROPFIND', path, {}, '1')
    await raw(`FOO ${path} HTTP/1.1\nHost: 127.0.0.1\nContent-Length: 1\n\n1`)
    expect((await send(port(), 'GET', path)).body).toBe(before)
  })
})

describe('SIGHUP', () => {
  it('stops the daemon gracefully, as SIGTERM does (exit 0)', async () => {
    const p = await startServer({ ...NO_SHEDDING })
    p.child.kill('SIGHUP')
    expect(await p.exited).toEqual({ code: 0, signal: null })
    expect(p.stdout()).toContain('"signal":"SIGHUP"')
  })
})
