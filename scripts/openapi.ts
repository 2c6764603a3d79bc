/**
 * npm run openapi: writes openapi.yaml, the document the app serves at /openapi.yaml, built
 * from the routes' zod schemas on the demo machine. test/http/openapi.test.ts fails when the
 * committed file differs from what this generates.
 */
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import Fastify from 'fastify'
import { app } from '../src/app.ts'
import { SimRunner } from '../src/host/runner.ts'
import { DEMO_CONFIG } from '../src/kernel/demo.ts'
import { Kernel } from '../src/kernel/kernel.ts'

export const OPENAPI_PATH = fileURLToPath(new URL('../openapi.yaml', import.meta.url))

export async function generateOpenapi(): Promise<string> {
  const kernel = new Kernel({ ...DEMO_CONFIG, autostart: false })
  const runner = new SimRunner(kernel, { mode: 'paused' })
  const server = Fastify()
  try {
    await server.register(app, { kernel, runner })
    const r = await server.inject('/openapi.yaml')
    if (r.statusCode !== 200) throw new Error(`GET /openapi.yaml answered ${r.statusCode}`)
    return r.body
  } finally {
    runner.close()
    await server.close()
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(OPENAPI_PATH, await generateOpenapi())
  console.log(`wrote ${OPENAPI_PATH}`)
}
