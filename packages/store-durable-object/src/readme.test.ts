import { readFileSync } from 'node:fs'
import { it } from 'vitest'
import {
  expectBlocksRunIn,
  fencedBlocks,
} from '../../server/src/testing-internal/readme-examples.js'

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')

// The README's Worker is integration/runtimes/src/worker.ts, word for word: a Worker runs only in
// a Workers runtime, so it is typechecked with that package and run in workerd by
// integration/runtimes/test/workerd.e2e.test.ts (several isolates sharing the nonce object).
const worker = readFileSync(
  new URL('../../../integration/runtimes/src/worker.ts', import.meta.url),
  'utf8',
)

it('quotes the Worker that runs in workerd, every line in order', () => {
  expectBlocksRunIn(fencedBlocks(readme, 'ts'), [worker])
})
