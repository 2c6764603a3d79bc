/**
 * A small Dockerfile reader for the tests: instructions with continuation lines joined,
 * grouped by stage, with ARG defaults substituted. Enough for the project's own Dockerfile
 * (no heredocs, no parser directives).
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT } from '../helpers/process.ts'

export interface Instruction {
  readonly keyword: string
  /** The arguments with ARG defaults substituted. */
  readonly args: string
  readonly line: number
}

export interface Stage {
  readonly image: string
  readonly name: string | null
  readonly instructions: readonly Instruction[]
}

/** The instructions' exec-form (JSON array) arguments, or null for the shell form. */
export function execForm(args: string): string[] | null {
  if (!args.trimStart().startsWith('[')) return null
  const parsed: unknown = JSON.parse(args)
  return Array.isArray(parsed) && parsed.every((a) => typeof a === 'string') ? parsed : null
}

function substitute(text: string, args: ReadonlyMap<string, string>): string {
  return text.replace(/\$\{(\w+)\}|\$(\w+)/g, (m, a: string, b: string) => args.get(a ?? b) ?? m)
}

export function readDockerfile(path = join(ROOT, 'Dockerfile')): Stage[] {
  const lines = readFileSync(path, 'utf8').split('\n')
  const logical: { text: string; line: number }[] = []
  let current: { text: string; line: number } | null = null
  lines.forEach((raw, i) => {
    if (current === null && (raw.trim() === '' || raw.trimStart().startsWith('#'))) return
    if (current !== null && raw.trimStart().startsWith('#')) return
    const continued = raw.endsWith('\\')
    const text = continued ? raw.slice(0, -1) : raw
    current = current
      ? { ...current, text: `${current.text} ${text.trim()}` }
      : { text, line: i + 1 }
    if (!continued) {
      logical.push(current)
      current = null
    }
  })

  const globalArgs = new Map<string, string>()
  const stages: { image: string; name: string | null; instructions: Instruction[] }[] = []
  let stageArgs = new Map<string, string>()
  for (const { text, line } of logical) {
    const m = /^\s*(\w+)\s+(.*)$/.exec(text)
    if (!m) throw new Error(`Dockerfile:${line}: cannot read ${JSON.stringify(text)}`)
    const keyword = m[1].toUpperCase()
    // FROM lines see the ARGs declared before the first FROM; other lines their stage's.
    const scope = stages.length === 0 || keyword === 'FROM' ? globalArgs : stageArgs
    const args = substitute(m[2].trim(), scope)
    if (keyword === 'ARG') {
      const [name, value] = args.split('=', 2)
      const known = value ?? globalArgs.get(name)
      if (known !== undefined) scope.set(name, known)
    }
    if (keyword === 'FROM') {
      const [image, as, name] = args.split(/\s+/)
      stages.push({ image, name: as?.toUpperCase() === 'AS' ? name : null, instructions: [] })
      stageArgs = new Map()
      continue
    }
    if (stages.length > 0) stages[stages.length - 1].instructions.push({ keyword, args, line })
  }
  return stages
}

/** `KEY=value KEY2="v"` pairs of an ENV or LABEL instruction. */
export function envPairs(args: string): [string, string][] {
  return [...args.matchAll(/([\w.-]+)=("([^"]*)"|\S*)/g)].map((m) => [m[1], m[3] ?? m[2]])
}
