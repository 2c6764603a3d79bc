/**
 * The process: boots the demo machine and runs it in real time, printing a status line every
 * second. (The HTTP control plane takes this file over.)
 */

import { statusLine } from './demo-status.ts'
import { DEMO_CONFIG, DEMO_PROCESSES } from './kernel/demo.ts'
import { Kernel } from './kernel/kernel.ts'
import { SimRunner } from './runner.ts'

const kernel = new Kernel(DEMO_CONFIG)
for (const p of DEMO_PROCESSES) kernel.exec(p)
const runner = new SimRunner(kernel, { speed: Number(process.env.SPEED ?? 1) })
const status = setInterval(() => console.log(statusLine(kernel)), 1000)
const stop = () => {
  clearInterval(status)
  runner.close()
}
process.once('SIGINT', stop)
process.once('SIGTERM', stop)
