/**
 * openapi.yaml is generated (npm run openapi), committed, and held true here: the committed
 * file equals what the routes generate, a third-party validator accepts it, @redocly/cli
 * lints it with no error and no warning but those redocly.yaml keeps, and every route
 * the app registers is in it, except the hidden refusals (405 fallbacks, writes to 0444
 * files, a file with a trailing slash), directory aliases with a trailing slash, and routes
 * outside the API's namespaces (the documents themselves, the dashboard's files).
 */
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { request } from 'node:http'
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import { dirname } from 'node:path'
import { promisify } from 'node:util'
import SwaggerParser from '@apidevtools/swagger-parser'
import Fastify, { type RouteOptions } from 'fastify'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { generateOpenapi, OPENAPI_PATH } from '../../scripts/openapi.ts'
import { app } from '../../src/app.ts'
import { SimRunner } from '../../src/host/runner.ts'
import { Kernel } from '../../src/kernel/kernel.ts'
import { SMALL } from '../helpers/kernel.ts'
import { expectPortableYaml } from '../helpers/yaml11.ts'

describe('openapi.yaml', () => {
  it('is what npm run openapi generates', async () => {
    const committed = readFileSync(OPENAPI_PATH, 'utf8')
    const generated = await generateOpenapi()
    expect(committed === generated, 'openapi.yaml is stale: run `npm run openapi`').toBe(true)
  })

  it('reads the same in YAML 1.1 (PyYAML, yaml.v2) as in 1.2, with no aliases', () => {
    expectPortableYaml(readFileSync(OPENAPI_PATH, 'utf8'), 'openapi.yaml')
  })

  it('passes swagger-parser validation', async () => {
    const doc = parse(readFileSync(OPENAPI_PATH, 'utf8'))
    await expect(SwaggerParser.validate(structuredClone(doc))).resolves.toBeDefined()
    expect(doc.openapi).toBe('3.1.0')
  })

  it('passes @redocly/cli lint: no error, and only the warnings redocly.yaml keeps', async () => {
    // Linted as committed, which is what the routes generate (checked first).
    expect(readFileSync(OPENAPI_PATH, 'utf8') === (await generateOpenapi())).toBe(true)
    const cli = createRequire(import.meta.url).resolve('@redocly/cli/bin/cli.js')
    const root = dirname(OPENAPI_PATH)
    const run = await promisify(execFile)(
      process.execPath,
      [cli, 'lint', OPENAPI_PATH, '--format=json', '--max-problems=10000'],
      {
        cwd: root,
        timeout: 90_000,
        maxBuffer: 64 * 2 ** 20,
        env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
      },
    ).catch((err: { stdout?: string; stderr?: string }) => err)
    const out = JSON.parse(run.stdout ?? '') as {
      totals: { errors: number; warnings: number }
      problems: {
        ruleId: string
        severity: string
        message: string
        location: { pointer: string }[]
      }[]
    }
    const listed = (p: (typeof out.problems)[number]) =>
      `${p.ruleId} ${p.location[0]?.pointer}: ${p.message}`
    const errors = out.problems.filter((p) => p.severity === 'error').map(listed)
    expect(errors, run.stderr).toEqual([])
    expect(out.totals.errors).toBe(0)
    const kept = parse(readFileSync(`${root}/redocly.yaml`, 'utf8')).rules ?? {}
    const unexplained = out.problems.filter((p) => kept[p.ruleId] !== 'warn').map(listed)
    expect(unexplained).toEqual([])
  }, 120_000)

  it('declares the security the server enforces', async () => {
    // Every token configured: an anonymous request gets 401 where, and only where, the
    // operation's security names a scheme.
    const kernel = new Kernel({ topology: SMALL, autostart: false })
    const runner = new SimRunner(kernel, { mode: 'paused' })
    const server = Fastify()
    await server.register(app, {
      kernel,
      runner,
      token: 'write-token-0123456789',
      readToken: 'read-token-0123456789',
    })
    await server.listen({ host: '127.0.0.1', port: 0 })
    // An unread event, so that an open trace_pipe answers at once.
    kernel.startThread('kscand')
    const { port } = server.server.address() as AddressInfo
    // The status line only: trace_pipe would stream on, a write would change state.
    const status = (method: string, path: string) =>
      new Promise<number>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, method, path }, (res) => {
          resolve(res.statusCode ?? 0)
          req.destroy()
        })
        req.setTimeout(3000, () => reject(new Error(`${method} ${path}: no answer`)))
        req.on('error', reject).end()
      })
    const doc = parse(readFileSync(OPENAPI_PATH, 'utf8'))
    const wrong: string[] = []
    try {
      for (const [path, ops] of Object.entries(doc.paths as Record<string, object>)) {
        const url = path.replace('{pid}', '1').replace('{name}', 'kscand')
        for (const [method, op] of Object.entries(ops as Record<string, { security: object[] }>)) {
          const guarded = op.security.some((r) => Object.keys(r).length > 0)
          const got = await status(method.toUpperCase(), url)
          if ((got === 401) !== guarded) wrong.push(`${method} ${path}: ${got}`)
        }
      }
    } finally {
      runner.close()
      await server.close()
    }
    expect(wrong).toEqual([])
  })

  it('has every route the app registers', async () => {
    const routes: RouteOptions[] = []
    const server = Fastify()
    server.addHook('onRoute', (r) => {
      routes.push(r)
    })
    const kernel = new Kernel({ topology: SMALL, autostart: false })
    const runner = new SimRunner(kernel, { mode: 'paused' })
    await server.register(app, { kernel, runner })
    await server.ready()
    const doc = (await server.inject('/openapi.json')).json()
    runner.close()
    await server.close()

    const documented = new Set<string>()
    for (const [path, ops] of Object.entries(doc.paths as Record<string, object>)) {
      for (const method of Object.keys(ops)) documented.add(`${method.toUpperCase()} ${path}`)
    }
    const apiRoots = new Set(Object.keys(doc.paths).map((p) => p.split('/')[1]))
    const openapiPath = (url: string) => url.replace(/:(\w+)/g, '{$1}')
    const registered = new Set<string>()
    for (const r of routes) {
      const methods = [r.method].flat().filter((m) => m !== 'HEAD')
      const hidden = (r.schema as { hide?: boolean } | undefined)?.hide === true
      if (hidden) {
        if (r.config?.refuses) continue
        // Outside the API's namespaces (the documents, the dashboard's files) a route may hide;
        // inside, only a directory's trailing-slash alias may.
        if (!apiRoots.has(r.url.split('/')[1])) continue
        const alias =
          r.url.endsWith('/') && documented.has(`GET ${openapiPath(r.url.slice(0, -1))}`)
        expect(alias, `hidden route ${methods} ${r.url}`).toBe(true)
        continue
      }
      for (const m of methods) registered.add(`${m} ${openapiPath(r.url)}`)
    }
    expect([...registered].sort()).toEqual([...documented].sort())
    expect(registered).toContain('PUT /sys/kernel/mm/kscand/scan_sleep_ms')
    expect(registered).toContain('GET /proc/{pid}/status')
  })
})
