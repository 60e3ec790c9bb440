import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'
import { describeVectorSuite } from './testing/vector-suite.js'
import type { VectorFile } from './vectors.js'

const inRepo = fileURLToPath(new URL('../vectors/spec-examples.json', import.meta.url))
const shared = fileURLToPath(new URL('../../../shared/vectors/spec-examples.json', import.meta.url))

describeVectorSuite('published', () => JSON.parse(readFileSync(inRepo, 'utf8')) as VectorFile)

it.skipIf(!existsSync(shared))('the in-repo copy matches ../shared/vectors', () => {
  expect(readFileSync(inRepo, 'utf8')).toBe(readFileSync(shared, 'utf8'))
})
