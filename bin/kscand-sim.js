#!/usr/bin/env node
/**
 * The `kscand-sim` command (package.json "bin"): `kscand-sim run SCENARIO [--out DIR]` runs a
 * scenario headless and `kscand-sim merge` gathers a sweep's shards (src/experiments/cli.ts);
 * anything else is the daemon (src/server.ts: `--help`, `--version`, or serve). From a checkout the TypeScript sources run through tsx
 * (a dependency `npm ci` installs), so no build step is needed; a built tree (dist/, as the
 * image has) runs its JavaScript.
 */
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const [command, ...rest] = process.argv.slice(2)
const fromSource = existsSync(`${root}src/server.ts`)
const ext = fromSource ? 'ts' : 'js'
const base = fromSource ? `${root}src` : `${root}dist/src`

if (fromSource) {
  const { register } = await import('tsx/esm/api')
  register()
}

const io = { stdout: process.stdout, stderr: process.stderr, cwd: process.cwd() }
if (command === 'run') {
  const { runCommand } = await import(`${base}/experiments/cli.${ext}`)
  process.exitCode = await runCommand(rest, io)
} else if (command === 'merge') {
  const { mergeCommand } = await import(`${base}/experiments/cli.${ext}`)
  process.exitCode = mergeCommand(rest, io)
} else {
  await import(`${base}/server.${ext}`)
}
