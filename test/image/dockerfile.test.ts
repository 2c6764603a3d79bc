/** The Dockerfile's rules, checked by reading it (there is no Docker engine to build it). */
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ROOT } from '../helpers/process.ts'
import { envPairs, execForm, type Instruction, readDockerfile } from './dockerfile.ts'

const stages = readDockerfile()
const final = stages[stages.length - 1]
const all = (stage: { instructions: readonly Instruction[] }, keyword: string) =>
  stage.instructions.filter((i) => i.keyword === keyword)
const last = (keyword: string) => all(final, keyword).at(-1)
const finalEnv = new Map(all(final, 'ENV').flatMap((i) => envPairs(i.args)))
const runs = (stage: { instructions: readonly Instruction[] }) =>
  all(stage, 'RUN').map((i) => i.args)

describe('Dockerfile', () => {
  it('is multi-stage, on pinned node images of the major the project runs on', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2)
    expect(stages[0].name).toBe('build')
    const major = process.versions.node.split('.')[0]
    for (const s of stages) {
      expect(s.image).toMatch(new RegExp(`^node:${major}\\.\\d+\\.\\d+-bookworm-slim$`))
    }
    const engines = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).engines.node
    const [, minor] = /^>=\d+\.(\d+)\.\d+$/.exec(engines) ?? []
    expect(Number(final.image.split('.')[1])).toBeGreaterThanOrEqual(Number(minor))
  })

  it('builds with the dev dependencies and installs only the production ones in the final stage', () => {
    expect(runs(stages[0]).some((r) => /\bnpm ci\b/.test(r) && !r.includes('--omit'))).toBe(true)
    expect(runs(stages[0])).toContain('npm run build')
    const finalRuns = runs(final).join(' && ')
    expect(finalRuns).toMatch(/\bnpm ci --omit=dev\b/)
    // Besides `npm ci`, npm installs only itself, at a pinned version.
    const installs = [...finalRuns.matchAll(/npm (?:install|i|add)\s+([^&]*)/g)].map((m) =>
      m[1].trim(),
    )
    expect(installs).toEqual([expect.stringMatching(/^-g npm@\d+\.\d+\.\d+$/)])
    expect(finalEnv.get('NODE_ENV')).toBe('production')
  })

  it('runs as a non-root user, with tini as PID 1 and node in exec form', () => {
    const user = last('USER')
    expect(user?.args).toBe('node')
    const cmd = last('CMD')
    expect(user && cmd && user.line < cmd.line).toBe(true)
    expect(execForm(last('ENTRYPOINT')?.args ?? '')).toEqual(['/usr/bin/tini', '--'])
    expect(runs(final).join(' ')).toMatch(/apt-get install -y --no-install-recommends tini\b/)
    const argv = execForm(cmd?.args ?? '')
    expect(argv?.[0]).toBe('node')
    expect(argv?.join(' ')).not.toMatch(/\bnpm\b/)
    // The script is the build of src/server.ts that the final stage copies.
    expect(argv?.at(-1)).toBe('dist/src/server.js')
    expect(existsSync(join(ROOT, 'src/server.ts'))).toBe(true)
    expect(all(final, 'COPY').map((c) => c.args)).toContain('--from=build /app/dist ./dist')
  })

  it('checks /healthz, exposes the port it listens on and keeps the state file on a volume', () => {
    const hc = last('HEALTHCHECK')?.args ?? ''
    const argv = execForm(hc.slice(hc.indexOf('CMD') + 3).trim())
    expect(argv?.slice(0, 2)).toEqual(['node', '-e'])
    expect(argv?.[2]).toContain('/healthz')
    expect(hc).toMatch(/--interval=\d+s --timeout=\d+s --start-period=\d+s --retries=\d+/)
    expect(last('EXPOSE')?.args).toBe(finalEnv.get('PORT'))
    expect(finalEnv.get('HOST')).toBe('0.0.0.0')
    const stateFile = finalEnv.get('STATE_FILE') as string
    expect(execForm(last('VOLUME')?.args ?? '')).toEqual([dirname(stateFile)])
    expect(runs(final).join(' ')).toContain(`chown node:node ${dirname(stateFile)}`)
  })

  it('copies named files that exist, never the whole context', () => {
    for (const s of stages) {
      for (const c of all(s, 'COPY')) {
        if (c.args.includes('--from=')) continue
        const parts = c.args.split(/\s+/).filter((p) => !p.startsWith('--'))
        const sources = parts.slice(0, -1)
        expect(sources).not.toContain('.')
        for (const src of sources) expect(existsSync(join(ROOT, src)), src).toBe(true)
      }
    }
  })

  it('has a .dockerignore that keeps local state out of the context', () => {
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n')
    for (const entry of ['node_modules', '.git', 'dist', 'test']) expect(ignored).toContain(entry)
  })
})
