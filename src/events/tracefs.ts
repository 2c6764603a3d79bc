/**
 * The tracefs files, declared in the sysfs table's terms (src/sysfs/table.ts): tracing_on,
 * buffer_size_kb, per_cpu/cpu0/stats and the enable files of every declared event, its
 * system and all events. Writes are parsed as the kernel's tracefs handlers do (kstrtoul)
 * and change nothing when rejected.
 */
import { z } from 'zod'
import { KernelError } from '../kernel/errors.ts'
import { EVENTS } from '../kernel/trace.ts'
import { readOnly, type SysfsFile } from '../sysfs/file.ts'
import { cString, kstrtoul } from '../sysfs/kstrto.ts'
import { formatTimestamp } from './format.ts'
import type { EventHub } from './hub.ts'
import { MAX_CAPACITY, SLOT_BYTES } from './ring.ts'

export const TRACEFS = '/sys/kernel/tracing'

/** kstrtoul_from_user(…, 10, &val), as the tracefs write handlers parse. */
function ulong(path: string, buf: string): bigint {
  const r = kstrtoul(cString(buf))
  if (!r.ok) throw new KernelError(r.err, `${path}: not an unsigned decimal number`)
  return r.value
}

/** Reads `0`, `1`, or `X` when the events disagree (events.rst). */
function enableState(on: Uint8Array, ids: readonly number[]): 0 | 1 | 'X' {
  const n = ids.reduce((s, id) => s + on[id], 0)
  return n === 0 ? 0 : n === ids.length ? 1 : 'X'
}

const ZeroOne = z.union([z.literal(0), z.literal(1)])

/** A writable tracefs file (mode 0644); its handler parses with kstrtoul. */
function handler(f: Omit<SysfsFile, 'mode' | 'extension' | 'parser'>): SysfsFile {
  return { ...f, mode: 0o644, extension: false, parser: 'kstrtoul' }
}

function enableFile(hub: EventHub, path: string, ids: readonly number[], doc: string): SysfsFile {
  const on = hub.kernel.tracer.on
  return handler({
    path,
    doc,
    value: ids.length === 1 ? ZeroOne : z.union([ZeroOne, z.literal('X')]),
    show: () => `${enableState(on, ids)}\n`,
    json: () => enableState(on, ids),
    write: (buf) => {
      const v = ulong(path, buf)
      if (v > 1n) throw new KernelError('EINVAL', `${path}: write 0 or 1`)
      for (const id of ids) on[id] = Number(v)
    },
  })
}

const PipeStats = z.object({
  entries: z.number().int(),
  overrun: z.number().int(),
  'commit overrun': z.number().int(),
  bytes: z.number().int(),
  'oldest event ts': z.string(),
  'now ts': z.string(),
  'dropped events': z.number().int(),
  'read events': z.number().int(),
})

export function tracefsFiles(hub: EventHub): SysfsFile[] {
  const systems = [...new Set(EVENTS.map((e) => e.system))]
  const idsOf = (system: string) => EVENTS.flatMap((e, i) => (e.system === system ? [i] : []))
  const stats = () => {
    const s = hub.pipeStats()
    return {
      entries: s.entries,
      overrun: s.overrun,
      'commit overrun': 0,
      bytes: s.entries * SLOT_BYTES,
      'oldest event ts': formatTimestamp(s.oldestUs),
      'now ts': formatTimestamp(hub.kernel.now * 1000),
      'dropped events': 0,
      'read events': s.readEvents,
    }
  }
  return [
    handler({
      path: `${TRACEFS}/tracing_on`,
      doc: 'Whether events are recorded into the ring (1) or not (0); any non-zero write turns it on.',
      value: ZeroOne,
      show: () => `${Number(hub.tracingOn)}\n`,
      json: () => Number(hub.tracingOn),
      write: (buf) => hub.setTracingOn(ulong(`${TRACEFS}/tracing_on`, buf) !== 0n),
    }),
    handler({
      path: `${TRACEFS}/buffer_size_kb`,
      doc:
        `Size of the ring in KiB (${SLOT_BYTES} bytes per event); a write resizes it, ` +
        'keeping the newest events that fit. 0 is EINVAL.',
      value: z.number().int(),
      show: () => `${hub.bufferKb}\n`,
      json: () => hub.bufferKb,
      write: (buf) => {
        const path = `${TRACEFS}/buffer_size_kb`
        const kb = ulong(path, buf)
        if (kb === 0n) throw new KernelError('EINVAL', `${path}: the size must be positive`)
        if ((kb * 1024n) / BigInt(SLOT_BYTES) > BigInt(MAX_CAPACITY)) {
          throw new KernelError('ENOMEM', `${path}: at most ${MAX_CAPACITY} events fit`)
        }
        hub.setBufferKb(Number(kb))
      },
    }),
    readOnly(
      `${TRACEFS}/per_cpu/cpu0/stats`,
      'The ring as trace_pipe sees it: unread entries, events overwritten before they were ' +
        'read (overrun) and events read.',
      PipeStats,
      () =>
        Object.entries(stats())
          .map(([k, v]) => `${k}: ${v}\n`)
          .join(''),
      stats,
    ),
    enableFile(
      hub,
      `${TRACEFS}/events/enable`,
      EVENTS.map((_, i) => i),
      'Every event.',
    ),
    ...systems.map((s) =>
      enableFile(hub, `${TRACEFS}/events/${s}/enable`, idsOf(s), `Every ${s} event.`),
    ),
    ...EVENTS.map((e, i) =>
      enableFile(hub, `${TRACEFS}/events/${e.system}/${e.name}/enable`, [i], e.doc),
    ),
  ]
}
