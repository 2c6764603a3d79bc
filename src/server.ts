/**
 * The process: boots the demo machine, runs it in real time and serves the control plane on
 * HOST:PORT (127.0.0.1:8080 by default). See config.ts for the environment it reads.
 */
import Fastify from 'fastify'
import { app } from './app.ts'
import { loadConfig } from './config.ts'
import { DEMO_CONFIG, DEMO_PROCESSES } from './kernel/demo.ts'
import { Kernel } from './kernel/kernel.ts'
import { SimRunner } from './runner.ts'

let config: ReturnType<typeof loadConfig>
try {
  config = loadConfig(process.env)
} catch (err) {
  console.error(`kscand-sim: ${(err as Error).message}`)
  process.exit(2)
}

const kernel = new Kernel(DEMO_CONFIG)
for (const p of DEMO_PROCESSES) kernel.exec(p)
const runner = new SimRunner(kernel, { speed: config.SPEED })

const server = Fastify({
  logger: {
    level: 'info',
    redact: { paths: ['req.headers.authorization'], censor: '[redacted]' },
  },
})
await server.register(app, { kernel, runner, token: config.KSCAND_SIM_TOKEN })

const stop = async () => {
  runner.close()
  await server.close()
}
process.once('SIGINT', stop)
process.once('SIGTERM', stop)

await server.listen({ host: config.HOST, port: config.PORT })
