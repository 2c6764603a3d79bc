/**
 * The image's final stage, reproduced outside Docker: the build stage's files and
 * `npm run build` (with this checkout's node_modules linked in, instead of a second full
 * `npm ci`), then a fresh directory holding exactly what the final stage copies, the final
 * stage's `npm ci --omit=dev`, and its CMD run with its environment. This catches a runtime
 * import of a dev dependency, a file the image does not copy, and a HEALTHCHECK that is broken
 * or probes another address than HOST and PORT say.
 */
import { spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { StateFile } from '../../src/host/state-file.ts'
import { ROOT, startServer, TOKEN, tempDir } from '../helpers/process.ts'
import { envPairs, execForm, readDockerfile, type Stage } from './dockerfile.ts'

const stages = readDockerfile()
const build = stages.find((s) => s.name === 'build') as Stage
const final = stages[stages.length - 1]
const args = (stage: Stage, keyword: string) =>
  stage.instructions.filter((i) => i.keyword === keyword).map((i) => i.args)

function sh(command: string, cwd: string): void {
  const r = spawnSync('sh', ['-c', command], { cwd, encoding: 'utf8', timeout: 600_000 })
  if (r.status !== 0) throw new Error(`${command} failed in ${cwd}: ${r.stderr || r.stdout}`)
}

/** Copies the sources of a stage's COPY instructions (`--from` ones through `from`). */
function copyStage(stage: Stage, to: string, from: Record<string, string>): void {
  for (const copy of args(stage, 'COPY')) {
    const parts = copy.split(/\s+/)
    const stageFrom = parts.find((p) => p.startsWith('--from='))?.slice('--from='.length)
    const paths = parts.filter((p) => !p.startsWith('--'))
    const dest = join(to, paths[paths.length - 1])
    for (const src of paths.slice(0, -1)) {
      const origin = stageFrom
        ? join(from[stageFrom], src.replace(/^\/app\//, ''))
        : join(ROOT, src)
      const target =
        dest.endsWith('/') || paths.length > 2 ? join(dest, src.split('/').pop() as string) : dest
      cpSync(origin, target, { recursive: true })
    }
  }
}

let tmp: ReturnType<typeof tempDir>
let app: string

beforeAll(() => {
  tmp = tempDir('kscand-sim-image-')
  const buildDir = join(tmp.dir, 'build')
  mkdirSync(buildDir)
  copyStage(build, buildDir, {})
  symlinkSync(join(ROOT, 'node_modules'), join(buildDir, 'node_modules'))
  for (const run of args(build, 'RUN').filter((r) => r.startsWith('npm run'))) sh(run, buildDir)

  app = join(tmp.dir, 'app')
  mkdirSync(app)
  copyStage(final, app, { build: buildDir })
  const ci = /npm ci --omit=dev[^&]*/.exec(args(final, 'RUN').join(' && '))?.[0].trim()
  expect(ci).toBeDefined()
  // The npm cache makes it quick; the command is the image's.
  sh(`npm_config_prefer_offline=true ${ci}`, app)
}, 900_000)

afterAll(() => tmp?.cleanup())

describe('the final stage, outside Docker', () => {
  it('has the production dependencies only', () => {
    expect(existsSync(join(app, 'node_modules/fastify'))).toBe(true)
    expect(existsSync(join(app, 'node_modules/typescript'))).toBe(false)
    expect(existsSync(join(app, 'node_modules/vitest'))).toBe(false)
    expect(existsSync(join(app, 'node_modules/tsx'))).toBe(false)
    expect(existsSync(join(app, 'node_modules/esbuild'))).toBe(false)
    expect(existsSync(join(app, 'src'))).toBe(false)
  })

  it('runs its CMD with its environment: ready, healthy by its HEALTHCHECK, stops with 0', async () => {
    const env = Object.fromEntries(args(final, 'ENV').flatMap(envPairs))
    expect(env.NODE_ENV).toBe('production')
    const volume = join(tmp.dir, 'volume')
    mkdirSync(volume)
    const stateFile = join(volume, 'state.json')
    const cmd = execForm(args(final, 'CMD').at(-1) as string) as string[]
    // As `docker run -e KSCAND_SIM_TOKEN=… -v …:/var/lib/kscand-sim` would, on loopback.
    const srv = await startServer(
      { ...env, HOST: '127.0.0.1', PORT: '0', STATE_FILE: stateFile, KSCAND_SIM_TOKEN: TOKEN },
      { command: cmd, cwd: app, timeoutMs: 60_000 },
    )
    try {
      expect((await fetch(`${srv.url}/readyz`)).status).toBe(200)

      const hc = args(final, 'HEALTHCHECK').at(-1) as string
      const probe = execForm(hc.slice(hc.indexOf('CMD') + 3).trim()) as string[]
      const health = (env: Record<string, string>) =>
        spawnSync(probe[0], probe.slice(1), {
          env: { PATH: process.env.PATH, ...env },
          timeout: 10_000,
        }).status
      const port = String(srv.port)
      // The address the server listens on, loopback for a wildcard, and nothing else.
      for (const HOST of ['127.0.0.1', '0.0.0.0', '::'])
        expect(health({ HOST, PORT: port }), HOST).toBe(0)
      expect(health({ HOST: '127.0.0.3', PORT: port })).toBe(1)
      expect(health({ HOST: '127.0.0.1', PORT: String(srv.port === 1 ? 2 : 1) })).toBe(1)

      const put = await fetch(`${srv.url}/sys/kernel/mm/kscand/scan_sleep_ms`, {
        method: 'PUT',
        body: '250',
        headers: { authorization: `Bearer ${TOKEN}` },
      })
      expect(put.status).toBe(200)
      srv.child.kill('SIGTERM')
      expect(await srv.exited).toEqual({ code: 0, signal: null })
      expect(new StateFile(stateFile).load()?.tunables).toEqual({
        '/sys/kernel/mm/kscand/scan_sleep_ms': '250',
      })
      expect(health({ HOST: env.HOST, PORT: port })).toBe(1)
    } finally {
      srv.child.kill('SIGKILL')
    }
  })
})
