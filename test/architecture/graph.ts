/**
 * The import graph of the source tree, read with TypeScript's own pre-processor: every
 * `import`, `import type`, `export … from` and `import()` of every .ts file under the given
 * roots: files resolved to a path relative to the repository, packages (`fastify`,
 * `node:fs`) as they are written.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, posix, relative, resolve } from 'node:path'
import ts from 'typescript'

export const ROOT = resolve(import.meta.dirname, '../..')

export interface SourceFile {
  /** Relative to the repository, with `/`: `src/kernel/kernel.ts`. */
  readonly path: string
  readonly text: string
  /** Repository paths of the files it imports. */
  readonly imports: readonly string[]
  /** The packages it imports, as written. */
  readonly packages: readonly string[]
}

function tsFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const p = posix.join(dir, e.name)
    if (e.isDirectory()) return tsFiles(p)
    return e.name.endsWith('.ts') ? [p] : []
  })
}

const isPackage = (spec: string) => !spec.startsWith('.') && !spec.startsWith('/')

/** Reads `text` as if it were the file at `path` (scratch checks use this). */
export function sourceFile(path: string, text: string): SourceFile {
  const specs = ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName)
  const imports = specs
    .filter((s) => !isPackage(s))
    .map((s) =>
      relative(ROOT, resolve(ROOT, dirname(path), s))
        .split('\\')
        .join('/'),
    )
  return { path, text, imports, packages: specs.filter(isPackage) }
}

export function sourceTree(...roots: string[]): SourceFile[] {
  return roots
    .flatMap(tsFiles)
    .sort()
    .map((p) => sourceFile(p, readFileSync(join(ROOT, p), 'utf8')))
}

/** Every cycle's files (strongly connected components of more than one file, or a self-import). */
export function cycles(files: readonly SourceFile[]): string[][] {
  const edges = new Map(files.map((f) => [f.path, f.imports]))
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const found: string[][] = []
  let next = 0
  const visit = (v: string) => {
    index.set(v, next)
    low.set(v, next++)
    stack.push(v)
    onStack.add(v)
    for (const w of edges.get(v) ?? []) {
      if (!edges.has(w)) continue
      if (!index.has(w)) {
        visit(w)
        low.set(v, Math.min(low.get(v)!, low.get(w)!))
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!))
      }
    }
    if (low.get(v) !== index.get(v)) return
    const scc: string[] = []
    let w: string
    do {
      w = stack.pop()!
      onStack.delete(w)
      scc.push(w)
    } while (w !== v)
    if (scc.length > 1 || edges.get(v)!.includes(v)) found.push(scc.sort())
  }
  for (const v of edges.keys()) if (!index.has(v)) visit(v)
  return found
}
