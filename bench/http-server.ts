/**
 * The server the HTTP bench loads, in its own process so the load generator does not share
 * its event loop: the demo machine behind the app (as `npm start` serves it, request logging
 * off), plus a bare fastify route returning a constant string as the baseline. Prints
 * `{"port": N}` once listening on 127.0.0.1.
 */
import Fastify from 'fastify'
import { app } from '../src/app.ts'
import { SimRunner } from '../src/host/runner.ts'
import { frameworkErrors } from '../src/http/errors.ts'
import { DEMO_CONFIG, DEMO_PROCESSES } from '../src/kernel/demo.ts'
import { Kernel } from '../src/kernel/kernel.ts'

const kernel = new Kernel(DEMO_CONFIG)
for (const p of DEMO_PROCESSES) kernel.exec(p)
const runner = new SimRunner(kernel, { mode: 'paused' })
const server = Fastify({ logger: false, frameworkErrors })
server.get('/bare', () => 'constant\n')
await server.register(app, { kernel, runner })
await server.listen({ host: '127.0.0.1', port: 0 })
const address = server.server.address()
if (address === null || typeof address === 'string') throw new Error('no port')
process.stdout.write(`${JSON.stringify({ port: address.port })}\n`)
process.once('SIGTERM', async () => {
  runner.close()
  await server.close()
  process.exit(0)
})
