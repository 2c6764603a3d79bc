/**
 * openapi.yaml is generated (npm run openapi), committed, and held true here: the committed
 * file equals what the routes generate, a third-party validator accepts it, and every route
 * the app registers is in it, except the hidden refusals (405 fallbacks, writes to 0444
 * files, a file with a trailing slash), directory aliases with a trailing slash, and routes
 * outside the API's namespaces (the documents themselves, the dashboard's files).
 */
import { readFileSync } from 'node:fs'
import SwaggerParser from '@apidevtools/swagger-parser'
import Fastify, { type RouteOptions } from 'fastify'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { generateOpenapi, OPENAPI_PATH } from '../../scripts/openapi.ts'
import { app } from '../../src/app.ts'
import { SimRunner } from '../../src/host/runner.ts'
import { Kernel } from '../../src/kernel/kernel.ts'
import { SMALL } from '../helpers/kernel.ts'

describe('openapi.yaml', () => {
  it('is what npm run openapi generates', async () => {
    const committed = readFileSync(OPENAPI_PATH, 'utf8')
    const generated = await generateOpenapi()
    expect(committed === generated, 'openapi.yaml is stale: run `npm run openapi`').toBe(true)
  })

  it('passes swagger-parser validation', async () => {
    const doc = parse(readFileSync(OPENAPI_PATH, 'utf8'))
    await expect(SwaggerParser.validate(structuredClone(doc))).resolves.toBeDefined()
    expect(doc.openapi).toBe('3.1.0')
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
        const alias = r.url.endsWith('/') && documented.has(`GET ${r.url.slice(0, -1)}`)
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
