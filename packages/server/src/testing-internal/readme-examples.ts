/**
 * The one way the repository's README tests hold a README's examples to the code that runs them:
 * the fenced blocks of a language are extracted, and each must appear in a test, line for line, in
 * order and with nothing between (a line deleted from the README, or changed into another line of
 * the test, fails too). Shell blocks are run instead: `shellCommands` gives their commands.
 */
import { expect } from 'vitest'

/** Where the blocks are taken from: the whole README, or the text between two headings. */
export interface ReadmeSection {
  readonly from: string
  /** The next heading after `from` (default: the end of the README). */
  readonly to?: string
}

/** The ````language` blocks of `markdown` (of `section` only, when given). */
export function fencedBlocks(
  markdown: string,
  language: string,
  section?: ReadmeSection,
): string[] {
  let text = markdown
  if (section !== undefined) {
    const start = markdown.indexOf(section.from)
    if (start < 0) throw new Error(`the README has no section ${section.from}`)
    const end = section.to === undefined ? -1 : markdown.indexOf(section.to, start)
    text = markdown.slice(start, end < 0 ? undefined : end)
  }
  const fence = new RegExp(`\`\`\`${language}\\n([\\s\\S]*?)\`\`\``, 'g')
  return [...text.matchAll(fence)].map((match) => match[1] ?? '')
}

/** The lines of `text` trimmed, blank ones left out: the README and a test indent differently. */
export function lines(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
}

/** Whether the lines of `block` run in `source` in the same order, with nothing between them. */
export function runsIn(source: string, block: string): boolean {
  return `\n${lines(source).join('\n')}\n`.includes(`\n${lines(block).join('\n')}\n`)
}

/** Asserts that every block runs in one of `sources` (test files' text), naming what is missing. */
export function expectBlocksRunIn(blocks: readonly string[], sources: readonly string[]): void {
  expect(blocks.length).toBeGreaterThan(0)
  for (const block of blocks) {
    for (const line of lines(block)) {
      expect(
        sources.some((source) => source.includes(line)),
        line,
      ).toBe(true)
    }
    expect(
      sources.some((source) => runsIn(source, block)),
      block,
    ).toBe(true)
  }
}

/**
 * The commands of ```sh blocks, one per line, comments removed and lines ending in `\` joined
 * with the next, in the README's order.
 */
export function shellCommands(block: string): string[] {
  const joined = block.replace(/\\\n\s*/g, ' ')
  return joined
    .split('\n')
    .map((line) => line.replace(/(^|\s)#.*$/, '').trim())
    .filter((line) => line !== '')
}
