/**
 * The Dockerfile's rules, checked by reading it (the build machines have no Docker engine;
 * scripts/image-smoke.sh checks a built image).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
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
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))

/** Whether `version` (x.y.z) is in an engines range of `^x.y.z` and `>=x.y.z` alternatives. */
function inRange(version: string, range: string): boolean {
  const v = version.split('.').map(Number)
  return range.split('||').some((alternative) => {
    const m = /^\s*(\^|>=)(\d+)\.(\d+)\.(\d+)\s*$/.exec(alternative)
    if (!m) throw new Error(`engines.node: cannot read ${JSON.stringify(alternative)}`)
    const min = m.slice(2).map(Number)
    const atLeast = v[0] - min[0] || v[1] - min[1] || v[2] - min[2]
    return atLeast >= 0 && (m[1] === '>=' || v[0] === min[0])
  })
}

/** The TypeScript files under `dir`, recursively. */
const sources = (dir: string): string[] =>
  readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => readFileSync(join(ROOT, dir, f), 'utf8'))

describe('Dockerfile', () => {
  it('is multi-stage, on one pinned node LTS image that engines admits, as it admits this Node', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2)
    expect(stages[0].name).toBe('build')
    const [, version, major] = /^node:((\d+)\.\d+\.\d+)-bookworm-slim$/.exec(final.image) ?? []
    for (const s of stages) expect(s.image).toBe(final.image)
    // LTS lines are the even majors; 24 and later are the supported ones.
    expect(Number(major) % 2).toBe(0)
    expect(Number(major)).toBeGreaterThanOrEqual(24)
    expect(inRange(version, pkg.engines.node)).toBe(true)
    // The suite runs on the build machines' Node 20 and on the image's major (.ci/run).
    expect(inRange(process.versions.node, pkg.engines.node)).toBe(true)
    expect(inRange('20.19.0', pkg.engines.node)).toBe(true)
  })

  it('has no parser directive, so BuildKit fetches no frontend from a registry', () => {
    const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8')
    expect(text).not.toMatch(/^#\s*syntax\s*=/im)
  })

  it('builds with the dev dependencies and installs only the production ones in the final stage', () => {
    expect(runs(stages[0]).some((r) => /\bnpm ci\b/.test(r) && !r.includes('--omit'))).toBe(true)
    expect(runs(stages[0])).toContain('npm run build')
    const ci = runs(final).find((r) => /\bnpm ci --omit=dev\b/.test(r))
    // Its cache and logs leave with the layer that made them.
    expect(ci).toMatch(/&& rm -rf (\S+ )*\/root\/\.npm\b/)
    // The base image's npm does it: no stage installs anything but through `npm ci`.
    for (const s of stages) expect(runs(s).join(' ')).not.toMatch(/\bnpm (install|i|add)\b/)
    expect(finalEnv.get('NODE_ENV')).toBe('production')
  })

  it('installs in the final stage only what dist/ imports, and no dev dependency', () => {
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8'))
    // `npm ci --omit=dev` leaves out the lockfile's `dev` entries; a dev dependency may be
    // in the production tree only because a production package needs it (ajv for fastify).
    const production = Object.entries(lock.packages as Record<string, Record<string, never>>)
      .filter(([path, p]) => path !== '' && !p.dev)
      .map(([, p]) => p)
    for (const name of Object.keys(pkg.devDependencies)) {
      const needed = production.some((p) =>
        ['dependencies', 'optionalDependencies', 'peerDependencies'].some((k) => p[k]?.[name]),
      )
      expect(lock.packages[`node_modules/${name}`]?.dev === true || needed, name).toBe(true)
    }
    for (const tool of ['tsx', 'esbuild', 'typescript']) {
      expect(lock.packages[`node_modules/${tool}`]?.dev, tool).toBe(true)
    }
    const code = [...sources('src'), ...sources('routes')].join('\n')
    // Every production dependency is imported (or resolved, as uplot's files) by src/ or routes/.
    for (const name of Object.keys(pkg.dependencies)) {
      expect(new RegExp(`['\`]${name}['/]`).test(code), name).toBe(true)
    }
  })

  it('carries the OCI labels, from package.json and the build', () => {
    const labels = new Map(all(final, 'LABEL').flatMap((i) => envPairs(i.args)))
    const oci = (key: string) => labels.get(`org.opencontainers.image.${key}`)
    expect(oci('title')).toBe(pkg.name)
    expect(oci('description')).toBe(pkg.description)
    expect(oci('version')).toBe(pkg.version)
    expect(oci('licenses')).toBe(pkg.license)
    // The repository's URL is the builder's to give (--build-arg SOURCE=…).
    expect(oci('source')).toBe('')
    expect(all(final, 'ARG').map((a) => a.args)).toContain('SOURCE=')
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

  it('checks /healthz where HOST and PORT say, exposes the port and keeps the state on a volume', () => {
    const hc = last('HEALTHCHECK')?.args ?? ''
    const argv = execForm(hc.slice(hc.indexOf('CMD') + 3).trim())
    expect(argv?.slice(0, 2)).toEqual(['node', '-e'])
    expect(argv?.[2]).toContain('/healthz')
    // test/image/image.test.ts runs it against a server with several HOST values.
    expect(argv?.[2]).toContain('process.env.HOST')
    expect(argv?.[2]).toContain('process.env.PORT')
    expect(hc).toMatch(/--interval=\d+s --timeout=\d+s --start-period=\d+s --retries=\d+/)
    expect(last('EXPOSE')?.args).toBe(finalEnv.get('PORT'))
    expect(finalEnv.get('HOST')).toBe('0.0.0.0')
    const stateFile = finalEnv.get('STATE_FILE') as string
    expect(execForm(last('VOLUME')?.args ?? '')).toEqual([dirname(stateFile)])
    // Writable by `node` and by an arbitrary UID in group 0 (OpenShift, `--user 12345:0`).
    expect(runs(final).join(' ')).toContain(`chown node:0 ${dirname(stateFile)}`)
    expect(runs(final).join(' ')).toContain(`chmod g+rwX ${dirname(stateFile)}`)
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
