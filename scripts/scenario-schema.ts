/**
 * npm run scenario-schema: writes docs/scenario.schema.json, the JSON Schema of a scenario
 * file, from the zod schema `kscand-sim run` validates with (src/schemas/scenario.ts).
 * test/experiments/load.test.ts fails when the committed file differs from what this
 * generates. Editors take it for completion (`# yaml-language-server: $schema=…`).
 */
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { z } from 'zod'
import { Scenario } from '../src/schemas/scenario.ts'

export const SCENARIO_SCHEMA_PATH = fileURLToPath(
  new URL('../docs/scenario.schema.json', import.meta.url),
)

/** The document, as the file holds it (the input side: defaults may be left out). */
export function scenarioSchema(): string {
  const schema = z.toJSONSchema(Scenario, { io: 'input', unrepresentable: 'any' })
  const doc = {
    $id: 'https://kscand-sim.invalid/scenario.schema.json',
    title: 'kscand-sim scenario',
    ...schema,
  }
  return `${JSON.stringify(doc, null, 2)}\n`
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(SCENARIO_SCHEMA_PATH, scenarioSchema())
  console.log(`wrote ${SCENARIO_SCHEMA_PATH}`)
}
