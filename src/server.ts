#!/usr/bin/env node
/**
 * The process: reads its configuration once (config.ts; `kscand-sim --help` lists it,
 * `--version` prints the package's version), boots the simulated machine (boot.ts: the config
 * file, then the state file), and serves the control plane with the production plugins
 * (app.ts with ops.ts) on HOST:PORT (127.0.0.1:8080 by default) until SIGTERM/SIGINT
 * (shutdown.ts).
 *
 * A startup failure is one line on stderr and a defined exit code (shutdown.ts `EXIT`).
 */
import Fastify from 'fastify'
import { app } from './app.ts'
import {
  browserPolicy,
  type Config,
  helpText,
  loadConfig,
  loadMachineConfig,
  parseCommandLine,
} from './daemon/config.ts'
import { Lifecycle } from './daemon/lifecycle.ts'
import { loggerOptions, RequestLog } from './daemon/logger.ts'
import { EXIT, installShutdown } from './daemon/shutdown.ts'
import { VERSION } from './daemon/version.ts'
import { type Booted, boot, type MachineConfig } from './host/boot.ts'
import { SimRunner } from './host/runner.ts'
import { clientErrorHandler, frameworkErrors } from './http/errors.ts'
import { Metrics } from './metrics/metrics.ts'

function die(message: string, code: number): never {
  process.stderr.write(`kscand-sim: ${message}\n`)
  process.exit(code)
}

let config: Config
let booted: Booted
let machine: MachineConfig
try {
  const cli = parseCommandLine(process.argv.slice(2))
  if (cli.help || cli.version) {
    process.stdout.write(cli.help ? helpText() : `${VERSION}\n`)
    process.exit(EXIT.ok)
  }
  config = loadConfig(process.env)
  machine = loadMachineConfig(config.CONFIG_FILE)
  booted = boot({
    seed: config.SEED,
    machine,
    machineSource: config.CONFIG_FILE ? `config file ${config.CONFIG_FILE}` : 'demo machine',
    stateFile: config.STATE_FILE,
    onCorrupt: config.STATE_FILE_ON_CORRUPT,
    limits: { maxProcesses: config.MAX_PROCESSES, maxVmas: config.MAX_VMAS },
    history: {
      historySeconds: config.HISTORY_SECONDS,
      historyProcesses: config.HISTORY_PROCESSES,
    },
  })
} catch (err) {
  die((err as Error).message, EXIT.config)
}

const { kernel, files, persistence } = booted
const browsers = browserPolicy(config)
const runner = new SimRunner(kernel, {
  speed: config.SPEED,
  mode: config.SIM_MODE,
  maxQueuedSteps: config.STEP_QUEUE,
})
const lifecycle = new Lifecycle()
const server = Fastify({
  frameworkErrors,
  clientErrorHandler,
  logger: loggerOptions(config),
  logController: new RequestLog(config.REQUEST_LOG_LEVEL),
  // Routes that take bigger bodies (POST /processes) set their own limit.
  bodyLimit: 16 * 1024,
  requestTimeout: 30_000,
})
server.log.info({ config, state: booted.state }, 'configured')
if (typeof booted.state === 'object') {
  server.log.warn(
    { movedAside: booted.state.movedAside },
    'the state file did not parse: moved aside, starting afresh',
  )
}

await server.register(app, {
  kernel,
  runner,
  files,
  token: config.KSCAND_SIM_TOKEN,
  readToken: config.KSCAND_SIM_READ_TOKEN,
  browsers,
  reportsDir: config.REPORTS_DIR,
  recording: {
    boot: {
      seed: config.SEED,
      machine,
      restored: booted.state === 'restored',
    },
    maxBytes: config.RECORD_BYTES,
  },
  events: { ringCapacity: config.RING_SIZE, maxStreamsPerAddress: config.MAX_STREAMS_PER_ADDRESS },
  ops: {
    lifecycle,
    metrics: new Metrics({
      version: VERSION,
      kernel,
      runner,
      persistence,
      maxProcessSeries: config.METRICS_MAX_PROCESSES,
    }),
    persistence,
    maxEventLoopDelayMs: config.MAX_EVENT_LOOP_DELAY_MS,
    writeRateLimit: config.WRITE_RATE_LIMIT,
    writeQueue: config.WRITE_QUEUE,
  },
})

installShutdown({
  server,
  lifecycle,
  runner,
  persistence,
  timeoutMs: config.SHUTDOWN_TIMEOUT_MS,
  drainMs: config.SHUTDOWN_DRAIN_MS,
  wsGraceMs: config.SHUTDOWN_WS_GRACE_MS,
})

try {
  await server.listen({ host: config.HOST, port: config.PORT })
} catch (err) {
  const e = err as NodeJS.ErrnoException
  die(`cannot listen on ${config.HOST}:${config.PORT}: ${e.code ?? e.message}`, EXIT.listen)
}
lifecycle.ready()
