/**
 * The runner on a real event loop, in a fresh process: virtual time must run far ahead of wall
 * time. It measures a child's speed, so it is one of the process tests (vitest.config.ts) that
 * run alone, after the others: on a machine shared with other test files the child gets a
 * fraction of a core and the ratio measures the load, not the runner.
 */
import { execFileSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'

describe('SimRunner on a real event loop', () => {
  it('runs far ahead of real time in a process with nothing else to do', () => {
    // A fresh process, real timers: nothing but the runner and one timer keep its loop busy.
    // The demo machine: its slices end at their wall-time bound, not at their virtual one.
    const script = `
      import { DEMO_CONFIG, DEMO_PROCESSES } from './src/kernel/demo.ts'
      import { Kernel } from './src/kernel/kernel.ts'
      import { SimRunner } from './src/host/runner.ts'
      const k = new Kernel(DEMO_CONFIG)
      for (const p of DEMO_PROCESSES) k.exec(p)
      const t0 = performance.now()
      const r = new SimRunner(k, { mode: 'afap' })
      setTimeout(() => {
        r.close()
        console.log(JSON.stringify({ virtualMs: k.now, wallMs: performance.now() - t0 }))
      }, 500)
    `
    const out = execFileSync(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      { cwd: new URL('../..', import.meta.url), encoding: 'utf8', timeout: 30_000 },
    )
    const { virtualMs, wallMs } = JSON.parse(out)
    // At least 10× real time (the demo runs at 100× and more; an idle loop once gave 0.3×).
    expect(virtualMs / wallMs).toBeGreaterThan(10)
  })
})
