/**
 * npm run bench: every suite, one table. Each figure is shown with a baseline measured in the
 * same run. Load stays on 127.0.0.1 and every loop is bounded in count and time.
 * `npm run bench -- kernel` runs one suite (`walk`, `kernel`, `http`, `events`, `state`, `globs`,
 * `experiments`, `sweep`).
 */
import { eventsSuite } from './events.bench.ts'
import { experimentsSuite } from './experiments.bench.ts'
import { globsSuite } from './globs.bench.ts'
import { httpSuite } from './http.bench.ts'
import { kernelSuite, walkSuite } from './kernel.bench.ts'
import { stateSuite } from './state.bench.ts'
import { sweepSuite } from './sweep.bench.ts'
import { type BenchRow, type BenchSuite, renderTable } from './table.ts'

const suites: Record<string, BenchSuite> = {
  walk: walkSuite,
  kernel: kernelSuite,
  http: httpSuite,
  events: eventsSuite,
  state: stateSuite,
  globs: globsSuite,
  experiments: experimentsSuite,
  sweep: sweepSuite,
}

const only = process.argv.slice(2)
const rows: BenchRow[] = []
for (const [name, suite] of Object.entries(suites)) {
  if (only.length && !only.includes(name)) continue
  process.stderr.write(`bench: ${name}…\n`)
  rows.push(...(await suite()))
}
console.log(renderTable(rows))
