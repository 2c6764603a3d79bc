/**
 * Every import points down. The source tree is a stack of rooms; a file may import its own
 * room and the rooms below it, never one above, and no import (type-only ones included)
 * closes a cycle. routes/ sit above everything app.ts builds on, so nothing under src/ but
 * app.ts and server.ts can reach a route.
 */
import { describe, expect, it } from 'vitest'
import { cycles, type SourceFile, sourceFile, sourceTree } from './graph.ts'

/** Bottom first. A file belongs to the first room with a prefix of its path. */
const ROOMS: readonly (readonly [room: string, prefixes: readonly string[]])[] = [
  ['kernel', ['src/kernel/']],
  ['schemas', ['src/schemas/']],
  ['sysfs', ['src/sysfs/']],
  ['views', ['src/views/']],
  ['events', ['src/events/']],
  ['http', ['src/http/']],
  ['host', ['src/host/']],
  ['experiments', ['src/experiments/']],
  ['metrics', ['src/metrics/']],
  ['daemon', ['src/daemon/']],
  ['plugins', ['src/plugins/']],
  ['routes', ['routes/']],
  ['app', ['src/app.ts']],
  ['server', ['src/server.ts']],
]

function roomOf(path: string): number {
  const i = ROOMS.findIndex(([, prefixes]) => prefixes.some((p) => path.startsWith(p)))
  if (i < 0) throw new Error(`${path} is in no room: add it to ROOMS`)
  return i
}

/** `from -> to` for every import of a room above the importing file's. */
function upwardImports(files: readonly SourceFile[]): string[] {
  return files.flatMap((f) =>
    f.imports
      .filter((i) => roomOf(i) > roomOf(f.path))
      .map((i) => `${f.path} (${ROOMS[roomOf(f.path)][0]}) -> ${i} (${ROOMS[roomOf(i)][0]})`),
  )
}

const TREE = sourceTree('src', 'routes')

describe('the import graph of src/ and routes/', () => {
  it('puts every file in a room', () => {
    for (const f of TREE) expect(() => roomOf(f.path), f.path).not.toThrow()
  })

  it('has no upward import', () => {
    expect(upwardImports(TREE)).toEqual([])
  })

  it('has no cycle, type-only imports included', () => {
    expect(cycles(TREE)).toEqual([])
  })

  it('catches an upward import and a cycle', () => {
    const kernel = sourceFile('src/kernel/x.ts', "import type { Y } from './y.ts'")
    const y = sourceFile('src/kernel/y.ts', "import type { X } from './x.ts'")
    const up = sourceFile('src/sysfs/z.ts', "import { app } from '../app.ts'")
    expect(cycles([kernel, y])).toEqual([['src/kernel/x.ts', 'src/kernel/y.ts']])
    expect(upwardImports([up])).toEqual(['src/sysfs/z.ts (sysfs) -> src/app.ts (app)'])
  })
})
