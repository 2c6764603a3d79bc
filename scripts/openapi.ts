/**
 * npm run openapi: writes openapi.yaml, the document the app serves at /openapi.yaml, built
 * from the routes' zod schemas on the demo machine. test/http/openapi.test.ts fails when the
 * committed file differs from what this generates.
 */
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { servedDocument } from './served-document.ts'

export const OPENAPI_PATH = fileURLToPath(new URL('../openapi.yaml', import.meta.url))

export const generateOpenapi = (): Promise<string> => servedDocument('/openapi.yaml')

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(OPENAPI_PATH, await generateOpenapi())
  console.log(`wrote ${OPENAPI_PATH}`)
}
