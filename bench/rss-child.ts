/**
 * Builds a 256 GiB machine and fills 250 GiB of it with processes in two halves, then lets
 * kscand scan everything once (kmigrated's lists included). Prints the resident memory each
 * simulated 4 KiB page adds (the slope between the halves) and the final RSS. Run by
 * bench/kernel.bench.ts in a fresh process.
 */
import { GiB } from '../src/kernel/constants.ts'
import { Kernel } from '../src/kernel/kernel.ts'

const gc = globalThis.gc ?? (() => {})
const rss = () => {
  gc()
  return process.memoryUsage().rss
}
const k = new Kernel({
  seed: 1,
  topology: {
    nodes: [
      { capacity: 64 * GiB, cpus: true },
      { capacity: 64 * GiB, cpus: true },
      { capacity: 128 * GiB, cpus: false },
    ],
  },
})
const fill = (from: number, to: number) => {
  for (let i = from; i < to; i++) k.exec({ comm: `p${i}`, size: 10 * GiB })
}
fill(0, 5)
const rss1 = rss()
const pages1 = k.totalPages()
fill(5, 25)
const rss2 = rss()
const pages2 = k.totalPages()
k.run(3000)
process.stdout.write(
  JSON.stringify({ perPage: (rss2 - rss1) / (pages2 - pages1), rssMiB: rss() / 2 ** 20 }),
)
