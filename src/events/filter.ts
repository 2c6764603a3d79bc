/**
 * Subscription filters: event-name globs compiled to a mask over the declared events, and a
 * pid set. Subscribers with equal filters (and format and batch interval) share one
 * serialization of every batch, so the key below must say exactly what a batch contains.
 */
import { EVENTS } from '../kernel/trace.ts'
import { FULL_NAMES } from './format.ts'
import type { EventRing } from './ring.ts'

/** `[system:]name` where either part may use `*` and `?`; a bare name matches any system. */
export const GLOB_RE = /^[A-Za-z0-9_*?]+(:[A-Za-z0-9_*?]+)?$/

export type Format = 'json' | 'text'

export interface Subscription {
  readonly events: readonly string[]
  readonly pids: readonly number[] | null
  readonly format: Format
  readonly batch_ms: number
}

export interface Filter {
  readonly sub: Subscription
  /** 1 at every event id the globs select. */
  readonly mask: Uint8Array
  readonly pids: ReadonlySet<number> | null
  /** Equal keys, equal batches. */
  readonly key: string
}

export class GlobError extends Error {}

/**
 * Whether `glob` (`*` any run, `?` any one character) matches all of `name`. Greedy with one
 * restart point, the last `*` seen: at most |glob| x |name| steps, whatever the glob (a
 * backtracking regex of `***?***?…` takes exponential time). Names are the declared events'.
 */
export function globMatches(glob: string, name: string): boolean {
  let g = 0
  let n = 0
  let star = -1
  let resume = 0
  while (n < name.length) {
    const c = glob[g]
    if (c === '*') {
      star = g++
      resume = n
    } else if (g < glob.length && (c === '?' || c === name[n])) {
      g++
      n++
    } else if (star >= 0) {
      g = star + 1
      n = ++resume
    } else {
      return false
    }
  }
  while (glob[g] === '*') g++
  return g === glob.length
}

/** The events a glob selects; throws GlobError when it is malformed or selects nothing. */
export function matchGlob(glob: string): number[] {
  if (!GLOB_RE.test(glob)) {
    throw new GlobError(`bad event glob ${JSON.stringify(glob)}: want [system:]name with * and ?`)
  }
  const [a, b] = glob.split(':')
  const system = b === undefined ? null : a
  const name = b ?? a
  const ids = EVENTS.flatMap((e, i) =>
    (system === null || globMatches(system, e.system)) && globMatches(name, e.name) ? [i] : [],
  )
  if (ids.length === 0) {
    throw new GlobError(`event glob ${JSON.stringify(glob)} matches no event`)
  }
  return ids
}

export function compileFilter(sub: Subscription): Filter {
  const mask = new Uint8Array(EVENTS.length)
  for (const g of sub.events) for (const id of matchGlob(g)) mask[id] = 1
  const pids = sub.pids === null ? null : [...new Set(sub.pids)].sort((x, y) => x - y)
  return {
    sub,
    mask,
    pids: pids === null ? null : new Set(pids),
    key: `${sub.format}/${sub.batch_ms}/${mask.join('')}/${pids?.join(',') ?? '*'}`,
  }
}

/** The declared events a filter selects, by full name. */
export function selectedEvents(f: Filter): string[] {
  return FULL_NAMES.filter((_, i) => f.mask[i] === 1)
}

/**
 * Whether the event at `seq` passes: its id is selected and, with a pid filter, the event's
 * pid or the pid owning its mm is listed.
 */
export function passes(f: Filter, ring: EventRing, seq: number): boolean {
  if (f.mask[ring.id(seq)] !== 1) return false
  const pids = f.pids
  return pids === null || pids.has(ring.pid(seq)) || pids.has(ring.owner(seq))
}
