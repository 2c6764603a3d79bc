/** README.md's sysfs table is the one generated from the table in src/sysfs/table.ts. */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { README_PATH, withTable } from '../../scripts/sysfs-doc.ts'

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
})
