/**
 * README.md: its sysfs and tracefs tables are the ones generated from the tables, and the
 * tracing section's first session runs as printed against a fresh daemon.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { README_PATH, withTable } from '../../scripts/sysfs-doc.ts'
import { traceHeader } from '../../src/events/tracefs.ts'
import { build } from '../helpers/http.ts'

/** A README section, from its heading to the next one of the same level. */
function sectionOf(readme: string, heading: string): string {
  const start = readme.indexOf(`\n${heading}\n`)
  expect(start, heading).toBeGreaterThan(0)
  const next = readme.indexOf('\n## ', start + heading.length + 2)
  return readme.slice(start, next < 0 ? undefined : next)
}

/** Splits a shell word list with single quotes, the only quoting the examples use. */
function words(line: string): string[] {
  return [...line.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2])
}

/** The request a cookbook curl line makes: `curl [-d X] URL` or `echo X | curl -T - URL`. */
function request(line: string): { method: 'GET' | 'PUT' | 'POST'; url: string; payload?: string } {
  const [echo, curl] = line.includes(' | ') ? line.split(' | ') : [null, line]
  const w = words(curl)
  expect(w[0]).toBe('curl')
  const url = (w.at(-1) as string).replace('$U', '')
  if (echo !== null) return { method: 'PUT', url, payload: `${words(echo).slice(1).join(' ')}\n` }
  const d = w.indexOf('-d')
  return d < 0 ? { method: 'GET', url } : { method: 'POST', url, payload: w[d + 1] }
}

describe('README.md', () => {
  const readme = readFileSync(README_PATH, 'utf8')

  it('opens with the two commands', () => {
    const blocks = [...readme.matchAll(/```sh\n([^`]*)```/g)].map((m) => m[1].trim())
    expect(blocks.slice(0, 2)).toEqual(['npm ci && npm start', 'npm ci && npm test'])
    expect(readme.indexOf('npm ci && npm start')).toBeLessThan(readme.indexOf('\n## '))
  })

  it('has the sysfs table as npm run docs generates it', () => {
    expect(readme === withTable(readme), 'the sysfs table is stale: run `npm run docs`').toBe(true)
  })

  it('has a curl cookbook', () => {
    expect(readme).toMatch(/^## curl cookbook$/m)
    for (const s of [
      'curl -d 100',
      'curl -T -',
      'write error: Invalid argument',
      '/threads/kscand/stop',
      "curl -H 'Accept: application/json'",
      '/proc/vmstat',
    ]) {
      expect(readme).toContain(s)
    }
  })

  it('has a tracing section whose first session runs as printed, on a fresh daemon', async () => {
    const section = sectionOf(readme, '## Tracing and the event stream')
    for (const c of ['curl -N $U/sys/kernel/tracing/trace_pipe', 'curl -T -', 'websocat']) {
      expect(section).toContain(c)
    }
    const sessions = [...section.matchAll(/```console\n([^`]*)```/g)].map((m) => m[1])
    const t = await build()
    try {
      const lines = sessions[0].trimEnd().split('\n')
      for (let i = 0; i < lines.length; ) {
        const cmd = lines[i++]
        expect(cmd.startsWith('$ ')).toBe(true)
        const out: string[] = []
        while (i < lines.length && !lines[i].startsWith('$ ')) out.push(lines[i++])
        const r = await t.server.inject(request(cmd.slice(2)))
        expect(r.statusCode, cmd).toBe(200)
        expect(r.body, cmd).toBe(out.map((l) => `${l}\n`).join(''))
      }
      // The second session's `trace` header is the one the daemon prints.
      const head = sessions[1].split('\n').filter((l) => l.startsWith('#'))
      expect(head.map((l) => `${l}\n`).join('')).toBe(
        traceHeader(0, 0)
          .split('\n')
          .slice(0, head.length)
          .map((l) => `${l}\n`)
          .join(''),
      )
    } finally {
      await t.close()
    }
  })
})
