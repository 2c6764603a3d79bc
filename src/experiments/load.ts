/**
 * Reads a scenario file: YAML or JSON (by its extension; YAML for any other, JSON being
 * YAML too), validated against the one schema (schemas/scenario.ts). Whatever is wrong comes
 * out as one line naming the file, the key path and the problem:
 * `scenario.yaml: timeline[1].value: Invalid input: expected string, received object`.
 */
import { readFileSync, statSync } from 'node:fs'
import { basename, dirname, extname, resolve } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { type ConfigFile, issueLine, parseConfigFile } from '../schemas/machine.ts'
import { Scenario } from '../schemas/scenario.ts'

/** Scenario and config files are a few KiB; anything near this is not one. */
export const MAX_FILE_BYTES = 1024 * 1024

/** A file that cannot be used; the message is the one line to print. */
export class ScenarioError extends Error {
  override name = 'ScenarioError'
}

/**
 * A small regular file's text. `fail` gets the problem (`not a regular file`, `cannot read
 * it: EACCES`, `2000000 bytes; a WHAT is at most MAX`) and throws.
 */
export function readSmallFile(
  path: string,
  max: number,
  what: string,
  fail: (why: string) => never,
): string {
  try {
    // Checked first: reading a FIFO would block, a device would never end.
    const st = statSync(path)
    if (!st.isFile()) fail('not a regular file')
    if (st.size > max) fail(`${st.size} bytes; a ${what} is at most ${max}`)
    return readFileSync(path, 'utf8')
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    if (!e.code) throw err
    return fail(`cannot read it: ${e.code}`)
  }
}

/**
 * Parses and validates scenario text; `source` names it in messages, and a machine file is
 * found in `dir` (by default the folder of `source`).
 */
export function parseScenario(text: string, source: string, dir = dirname(source)): Scenario {
  const fail = (why: string): never => {
    throw new ScenarioError(`${source}: ${why}`)
  }
  let doc: unknown
  if (extname(source).toLowerCase() === '.json') {
    try {
      doc = JSON.parse(text)
    } catch (err) {
      fail(`not JSON: ${(err as Error).message}`)
    }
  } else {
    try {
      // Aliases are bounded (the default 100), so a small file cannot expand without end.
      doc = parseYaml(text, { prettyErrors: true })
    } catch (err) {
      fail(`not YAML: ${(err as Error).message.split('\n')[0]}`)
    }
  }
  const parsed = Scenario.safeParse(doc)
  if (!parsed.success) return fail(issueLine(parsed.error))
  const { machine, machine_file: file, ...rest } = parsed.data
  return {
    ...rest,
    name: rest.name ?? defaultName(source),
    machine: file === undefined ? (machine ?? {}) : machineFile(resolve(dir, file), file, fail),
  }
}

/** The config file a scenario's `machine_file` names, read as CONFIG_FILE is. */
function machineFile(path: string, shown: string, fail: (why: string) => never): ConfigFile {
  const failHere = (why: string): never => fail(`machine_file ${shown}: ${why}`)
  return parseConfigFile(readSmallFile(path, MAX_FILE_BYTES, 'config file', failHere), failHere)
}

/** The output folder name of a scenario without one: its file name less the extension. */
function defaultName(source: string): string {
  const stem = basename(source, extname(source)).replace(/[^A-Za-z0-9._-]/g, '_')
  return /^[A-Za-z0-9]/.test(stem) ? stem.slice(0, 64) : `scenario-${stem}`.slice(0, 64)
}

/** Reads `path`; messages name it as `shown` (the path as the user gave it). */
export function loadScenario(path: string, shown = path): Scenario {
  const text = readSmallFile(path, MAX_FILE_BYTES, 'scenario file', (why) => {
    throw new ScenarioError(`${shown}: ${why}`)
  })
  return parseScenario(text, shown, dirname(path))
}
