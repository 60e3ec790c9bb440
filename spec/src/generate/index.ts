import type { VectorFile } from '../vectors.js'
import { buildVectorFile, serializeVectorFile } from './build.js'
import { recordFlow } from './flow.js'
import { KEY_CHAIN_FILE, generateKeyChainExamples, serializeKeyChainExamples } from './key-chain.js'
import { renderMarkdown } from './markdown.js'

export const MARKDOWN_FILE = 'EXAMPLES.md'
export const VECTORS_FILE = 'spec-examples.json'

export interface GeneratedExamples {
  readonly vectors: VectorFile
  /** File name → exact contents, for writing or for comparing with what is on disk. */
  readonly files: ReadonlyMap<string, string>
}

/** Runs the whole flow in memory and renders both files; touches neither disk nor network. */
export async function generateExamples(): Promise<GeneratedExamples> {
  const vectors = await buildVectorFile(await recordFlow())
  const keyChain = serializeKeyChainExamples(await generateKeyChainExamples())
  return {
    vectors,
    files: new Map([
      [MARKDOWN_FILE, renderMarkdown(vectors)],
      [VECTORS_FILE, serializeVectorFile(vectors)],
      [KEY_CHAIN_FILE, keyChain],
    ]),
  }
}
