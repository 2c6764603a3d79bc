import { configDefaults, defineConfig } from 'vitest/config'

/**
 * Tests that start server processes (and Prometheus), kill them 50 times, build the image,
 * drive Chromium or time a child's speed: they load both cores on their own, or measure them,
 * so they run after the others (one file at a time), and the CPU-bound kernel tests never
 * share the machine with them.
 */
const PROCESS_TESTS = [
  'test/host/kill9.test.ts',
  'test/host/runner-process.test.ts',
  'test/image/image.test.ts',
  'test/daemon/lifecycle.test.ts',
  'test/deploy/prometheus-live.test.ts',
  'test/public/dashboard.test.ts',
  'test/experiments/report-browser.test.ts',
]

export default defineConfig({
  test: {
    environment: 'node',
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // The JSON report is what .ci/run counts; the default reporter is for people.
    reporters: ['default', 'json'],
    outputFile: { json: '.vitest-report.json' },
    projects: [
      {
        extends: true,
        test: {
          name: 'main',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...PROCESS_TESTS],
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'processes',
          include: PROCESS_TESTS,
          sequence: { groupOrder: 1 },
          fileParallelism: false,
        },
      },
    ],
  },
})
