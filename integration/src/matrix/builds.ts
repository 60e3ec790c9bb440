/// <reference types="node" />
import { mkdir, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { BuildSpec } from './config.js'
import { runCommand, runStep, UnavailableError, type Placeholders } from './process.js'

/** A reference build of this run: its source tree, or why it could not be built. */
export type BuildOutcome =
  | {
      readonly name: string
      readonly commit: string
      readonly repository: string
      readonly src: string
      readonly ms: number
    }
  | {
      readonly name: string
      readonly commit: string
      readonly repository: string
      readonly unavailable: string
      readonly ms: number
    }

const EXTRACT_TIMEOUT_MS = 60_000

/**
 * Extracts the pinned archive into `workDir/<name>` and runs the build steps there (`{src}`).
 * Never throws for the build's own failures: they make the build unavailable, with the output.
 */
export async function buildReference(
  build: BuildSpec,
  workDir: string,
  values: Placeholders,
  onStep?: (text: string) => void,
): Promise<BuildOutcome> {
  const began = Date.now()
  const about = { name: build.name, commit: build.commit, repository: build.repository }
  const into = join(workDir, build.name)
  try {
    await mkdir(into, { recursive: true })
    onStep?.(`extract ${build.archive}`)
    const extracted = await runCommand(
      'tar',
      ['-xzf', build.archive, '-C', into],
      into,
      {},
      EXTRACT_TIMEOUT_MS,
    )
    if (extracted.problem !== undefined) {
      throw new UnavailableError(`${extracted.problem}:\n${extracted.output.tail()}`)
    }
    // `git archive --prefix=NAME/` archives have one top-level directory: the source tree.
    const entries = await readdir(into, { withFileTypes: true })
    const top = entries.length === 1 && entries[0]?.isDirectory() ? entries[0].name : undefined
    const src = top === undefined ? into : join(into, top)
    const withSrc = { ...values, src }
    for (const [index, step] of build.steps.entries()) {
      onStep?.(`step ${index + 1}/${build.steps.length}: ${step.command} ${step.args.join(' ')}`)
      await runStep(step, withSrc)
    }
    return { ...about, src, ms: Date.now() - began }
  } catch (error) {
    if (!(error instanceof UnavailableError)) throw error
    return { ...about, unavailable: error.message, ms: Date.now() - began }
  }
}
