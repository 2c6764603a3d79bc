/**
 * Every section reference (the section sign and a number) in the code, the tests and the docs
 * names a page under docs/ and a section that page has: the page, then a section, then
 * possibly more sections as a range or a list, each optionally followed by a remark in
 * parentheses (see the accepted forms below). Inside a page under docs/, a page name may be
 * relative to it, and a section number without a page means a section of that page. Sections
 * are the numbered Markdown headings (`### 7.13 Quirks`, or the sign before the number). The
 * rule is in docs/README.md; this file spells the section sign as an escape so that it holds
 * no reference itself.
 */
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const DIRS = ['src', 'routes', 'test', 'scripts', 'bench', 'public', 'docs']
const TOP_FILES = ['README.md', 'BENCHMARKS.md', 'openapi.yaml', 'asyncapi.yaml']
const TEXT = /\.(ts|js|mjs|html|css|sh|md|yaml)$/

const SIGN = '\u00a7'
const SEC = `${SIGN}(\\d+(?:\\.\\d+)*)`
/** A remark in parentheses, which may hold one level of parentheses itself. */
const REMARK = `\\((?:[^()${SIGN}]|\\([^()${SIGN}]*\\))*\\)`
/** A page, then one section, then more sections joined by a dash, comma, "and" or "or". */
const GROUP = new RegExp(
  `((?:[\\w.-]+/)*[\\w.-]+\\.md)\\s+${SEC}(?:(?:\\s*${REMARK})?\\s*(?:–|-|,|and|or)\\s*${SEC})*`,
  'g',
)

/** Section numbers of a Markdown page: its headings that start with a number. */
function sectionsOf(markdown: string): Set<string> {
  const out = new Set<string>()
  for (const m of markdown.matchAll(/^#{1,6}[ \t]+\u00a7?(\d+(?:\.\d+)*)\.?(?:[ \t]|$)/gm))
    out.add(m[1])
  return out
}

/**
 * The problems of one file's references, as `file:line: reference: what is wrong`.
 * `sections` gives the numbered sections of a repository path under docs/, or undefined when
 * there is no such page.
 */
function checkRefs(
  file: string,
  text: string,
  sections: (docsPath: string) => Set<string> | undefined,
): string[] {
  const problems: string[] = []
  const lineOf = (at: number) => text.slice(0, at).split('\n').length
  const report = (at: number, ref: string, what: string) =>
    problems.push(`${file}:${lineOf(at)}: ${ref.replace(/\s+/g, ' ')}: ${what}`)
  const inDocs = file.startsWith('docs/') && file.endsWith('.md')
  const covered = new Set<number>()
  const resolve = (page: string, at: number, ref: string, secs: string[]) => {
    const target = page.startsWith('docs/')
      ? page
      : inDocs
        ? path.posix.normalize(path.posix.join(path.posix.dirname(file), page))
        : undefined
    if (!target?.startsWith('docs/')) {
      report(
        at,
        ref,
        `${page} is not a page under docs/ (write docs/…/${path.posix.basename(page)})`,
      )
      return
    }
    const have = sections(target)
    if (!have) return report(at, ref, `${target} does not exist`)
    for (const s of secs) if (!have.has(s)) report(at, ref, `${target} has no section ${s}`)
  }
  for (const m of text.matchAll(GROUP)) {
    const at = m.index
    for (const s of m[0].matchAll(new RegExp(SIGN, 'g'))) covered.add(at + s.index)
    const secs = [...m[0].matchAll(new RegExp(SEC, 'g'))].map((s) => s[1])
    resolve(m[1], at, m[0], secs)
  }
  for (const m of text.matchAll(new RegExp(`${SIGN}(\\d+(?:\\.\\d+)*)?`, 'g'))) {
    if (covered.has(m.index)) continue
    if (inDocs && m[1] !== undefined) resolve(file, m.index, m[0], [m[1]])
    else report(m.index, m[0], 'names no page under docs/')
  }
  return problems
}

function walk(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = `${dir}/${e.name}`
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : walk(rel)
    return TEXT.test(e.name) ? [rel] : []
  })
}

describe('section references', () => {
  const cache = new Map<string, Set<string> | undefined>()
  const sections = (docsPath: string) => {
    if (!cache.has(docsPath)) {
      let text: string | undefined
      try {
        text = readFileSync(path.join(ROOT, docsPath), 'utf8')
      } catch {
        text = undefined
      }
      cache.set(docsPath, text === undefined ? undefined : sectionsOf(text))
    }
    return cache.get(docsPath)
  }

  it('each names a page under docs/ and a section that page has', () => {
    const files = [...DIRS.flatMap(walk), ...TOP_FILES]
    const problems = files.flatMap((f) =>
      checkRefs(f, readFileSync(path.join(ROOT, f), 'utf8'), sections),
    )
    expect(problems, `unresolved section references:\n${problems.join('\n')}`).toEqual([])
    // The scan saw the references the code is full of, not nothing.
    expect(files).toContain('src/kernel/kscand.ts')
    expect(cache.get('docs/spec/kscand-v3.md')?.has('7.13')).toBe(true)
  })

  const spec = (p: string) =>
    p === 'docs/spec/kscand-v3.md' ? new Set(['3', '7.2', '7.3', '7.4', '7.6']) : undefined
  const s = SIGN

  it('accepts a page with a section, a range and a list', () => {
    const text = [
      `// docs/spec/kscand-v3.md ${s}7.6`,
      `// (docs/spec/kscand-v3.md ${s}7.2–${s}7.4), docs/spec/kscand-v3.md ${s}3, ${s}7.6`,
      `// docs/spec/kscand-v3.md ${s}7.2 (mm list), ${s}7.3 (\`kscand()\`) and ${s}7.4`,
    ].join('\n')
    expect(checkRefs('src/a.ts', text, spec)).toEqual([])
  })

  it('reports, with file and line, a bare reference, a page outside docs/, a missing page or section', () => {
    const text = [
      '/**',
      ` * the rule of ${s}7.6`,
      ` * kscand-v3.md ${s}7.6`,
      ` * docs/spec/nope.md ${s}1`,
      ` * docs/spec/kscand-v3.md ${s}7.2–${s}7.99`,
      ` * Section numbers (${s}) refer to somewhere`,
      ' */',
    ].join('\n')
    expect(checkRefs('src/a.ts', text, spec)).toEqual([
      `src/a.ts:3: kscand-v3.md ${s}7.6: kscand-v3.md is not a page under docs/ (write docs/…/kscand-v3.md)`,
      `src/a.ts:4: docs/spec/nope.md ${s}1: docs/spec/nope.md does not exist`,
      `src/a.ts:5: docs/spec/kscand-v3.md ${s}7.2–${s}7.99: docs/spec/kscand-v3.md has no section 7.99`,
      `src/a.ts:2: ${s}7.6: names no page under docs/`,
      `src/a.ts:6: ${s}: names no page under docs/`,
    ])
  })

  it('inside a page under docs/, resolves relative pages and bare references to the page itself', () => {
    const text = `see ${s}7.3 and [kscand-v3.md ${s}7.4](kscand-v3.md), but not ${s}9`
    expect(checkRefs('docs/spec/kscand-v3.md', text, spec)).toEqual([
      `docs/spec/kscand-v3.md:1: ${s}9: docs/spec/kscand-v3.md has no section 9`,
    ])
    expect(checkRefs('docs/simulation.md', `the rule of ${s}7.6`, spec)).toEqual([
      `docs/simulation.md:1: ${s}7.6: docs/simulation.md does not exist`,
    ])
  })
})
