/**
 * npm run asyncapi: writes asyncapi.yaml, the document the app serves at /asyncapi.yaml
 * (src/http/asyncapi.ts), on the demo machine. test/events/asyncapi.test.ts fails when the
 * committed file differs from what this generates.
 */
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { servedDocument } from './served-document.ts'

export const ASYNCAPI_PATH = fileURLToPath(new URL('../asyncapi.yaml', import.meta.url))

export const generateAsyncapi = (): Promise<string> => servedDocument('/asyncapi.yaml')

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(ASYNCAPI_PATH, await generateAsyncapi())
  console.log(`wrote ${ASYNCAPI_PATH}`)
}
