/**
 * A document the app serves (/openapi.yaml, /asyncapi.yaml) as the app on the demo machine
 * serves it: what `npm run openapi` and `npm run asyncapi` commit.
 */
import Fastify from 'fastify'
import { app } from '../src/app.ts'
import { SimRunner } from '../src/host/runner.ts'
import { DEMO_CONFIG } from '../src/kernel/demo.ts'
import { Kernel } from '../src/kernel/kernel.ts'

export async function servedDocument(url: string): Promise<string> {
  const kernel = new Kernel({ ...DEMO_CONFIG, autostart: false })
  const runner = new SimRunner(kernel, { mode: 'paused' })
  const server = Fastify()
  try {
    await server.register(app, { kernel, runner })
    const r = await server.inject(url)
    if (r.statusCode !== 200) throw new Error(`GET ${url} answered ${r.statusCode}`)
    return r.body
  } finally {
    runner.close()
    await server.close()
  }
}
