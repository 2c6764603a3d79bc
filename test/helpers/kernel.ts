/** Small machines and trace capture for the kernel tests. */
import { MiB } from '../../src/kernel/constants.ts'
import { Kernel } from '../../src/kernel/kernel.ts'
import type { TopologySpec } from '../../src/kernel/machine.ts'
import type { KernelConfig } from '../../src/kernel/spec.ts'
import { EVENTS, type EventName, formatEvent, type TraceEvent } from '../../src/kernel/trace.ts'

/** Two 64 MiB DRAM nodes with CPUs and a 128 MiB CXL node. */
export const SMALL: TopologySpec = {
  nodes: [
    { capacity: 64 * MiB, cpus: true },
    { capacity: 64 * MiB, cpus: true },
    { capacity: 128 * MiB, cpus: false },
  ],
  distance: [
    [10, 32, 50],
    [32, 10, 50],
    [50, 50, 10],
  ],
}

export function boot(config: KernelConfig = {}): Kernel {
  return new Kernel({ seed: 7, topology: SMALL, ...config })
}

export interface Captured {
  readonly events: TraceEvent[]
  named(name: EventName): TraceEvent[]
  lines(): string[]
}

/** Every declared event but the ones named. */
export function allBut(...names: EventName[]): EventName[] {
  return EVENTS.map((e) => e.name).filter((n) => !names.includes(n))
}

/**
 * Records the events named (by default every event) from now on, enabling them as a
 * consumer of the kernel's tracepoints (every event is off at boot).
 */
export function capture(k: Kernel, names?: readonly EventName[]): Captured {
  const events: TraceEvent[] = []
  const mask = new Uint8Array(EVENTS.length)
  EVENTS.forEach((e, i) => {
    mask[i] = names === undefined || names.includes(e.name) ? 1 : 0
  })
  k.tracer.subscribe((e) => events.push(e), mask)
  return {
    events,
    named: (name) => events.filter((e) => EVENTS[e.id].name === name),
    lines: () =>
      events.map((e) => `${e.ts} ${e.comm}-${e.pid} ${EVENTS[e.id].name}: ${formatEvent(e)}`),
  }
}

/** The fields of an event by name. */
export function fields(e: TraceEvent): Record<string, number | string> {
  return Object.fromEntries(EVENTS[e.id].fields.map((f, i) => [f.name, e.args[i]]))
}

/** Sum of free pages and pages held by processes equals every node's capacity. */
export function pagesConserved(k: Kernel): boolean {
  return k.machine.nodes.every((n) => {
    const held = k.processList().reduce((s, p) => s + p.mm.pagesOnNode[n.id], 0)
    return n.free + held === n.pages
  })
}
