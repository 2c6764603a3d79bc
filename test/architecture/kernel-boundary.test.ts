/**
 * The kernel boundary as a rule: src/kernel/ is the pure simulation. It imports nothing
 * outside itself (no package, no node: module) and reads no clock, timer or host
 * randomness, so the same seed and the same commands give the same trace.
 */
import { describe, expect, it } from 'vitest'
import { type SourceFile, sourceFile, sourceTree } from './graph.ts'

/**
 * Host facilities the kernel must not touch: real time, timers, randomness, the host process
 * (`process.` as a global; a method called `process()` is the kernel's own word).
 */
const FORBIDDEN =
  /(?<![.\w$])(?:setTimeout|setInterval|setImmediate|queueMicrotask|Date|performance|Math\.random|globalThis|process(?=\s*\.))(?![\w$])/g

/** Comments and string literals say what the kernel does not do; only the code is checked. */
function code(text: string): string {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/\/\/.*$/gm, '')
    .replace(/'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|`(?:[^`\\]|\\.)*`/g, "''")
}

function violations(files: readonly SourceFile[]): string[] {
  return files.flatMap((f) => [
    ...f.packages.map((p) => `${f.path} imports ${p}`),
    ...f.imports.filter((i) => !i.startsWith('src/kernel/')).map((i) => `${f.path} imports ${i}`),
    ...[...code(f.text).matchAll(FORBIDDEN)].map((m) => `${f.path} uses ${m[0]}`),
  ])
}

describe('src/kernel/', () => {
  it('imports only itself and uses no timer, clock, host randomness or process', () => {
    expect(violations(sourceTree('src/kernel'))).toEqual([])
  })

  it('would catch a timer, a clock and an import from outside', () => {
    const bad = sourceFile(
      'src/kernel/bad.ts',
      "import { readFileSync } from 'node:fs'\nimport { app } from '../app.ts'\n" +
        '// setTimeout is fine in a comment\nsetTimeout(() => Date.now(), 1)\n' +
        'k.process(1)\nprocess.exitCode = 1\n',
    )
    expect(violations([bad])).toEqual([
      'src/kernel/bad.ts imports node:fs',
      'src/kernel/bad.ts imports src/app.ts',
      'src/kernel/bad.ts uses setTimeout',
      'src/kernel/bad.ts uses Date',
      'src/kernel/bad.ts uses process',
    ])
  })
})
