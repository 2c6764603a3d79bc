/**
 * YAML 1.1 readers (PyYAML, Go's yaml.v2, SnakeYAML) take an unquoted on/off/yes/no/y/n as a
 * boolean, where YAML 1.2 reads a string. A generated document must read the same in both,
 * and use no anchors and aliases (which some tools refuse and readers have to chase).
 */
import { expect } from 'vitest'
import { parse, parseDocument, visit } from 'yaml'

const BOOLISH = '(?:y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF)'
/** A key, a mapping value or a list item that is one of those words, unquoted. */
const UNQUOTED = new RegExp(
  `^\\s*(?:- +)?(?:${BOOLISH}\\s*:(?:\\s|$)|\\S.*:\\s+${BOOLISH}\\s*$|${BOOLISH}\\s*$)`,
)

export function expectPortableYaml(text: string, file: string): void {
  const unquoted = text
    .split('\n')
    .flatMap((line, i) => (UNQUOTED.test(line) ? [`${i + 1}: ${line}`] : []))
  expect(unquoted, `${file}: unquoted YAML 1.1 booleans`).toEqual([])
  expect(parse(text, { version: '1.1' }), `${file} reads differently in YAML 1.1`).toEqual(
    parse(text),
  )
  let aliases = 0
  visit(parseDocument(text), {
    Alias() {
      aliases++
    },
  })
  expect(aliases, `${file}: YAML aliases`).toBe(0)
}
