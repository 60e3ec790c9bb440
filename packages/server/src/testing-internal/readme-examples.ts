/**
 * The one way the repository's README tests hold a README's examples to the code that runs them:
 * the fenced blocks of a language are extracted, and each must appear in a test, line for line, in
 * order and with nothing between (a line deleted from the README, or changed into another line of
 * the test, fails too). Shell blocks are run instead: `shellCommands` gives their commands.
 */
import { execFile } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
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

/**
 * Asserts that every block runs in one of `sources` (test files' text), naming what is missing.
 * A block's leading `import` lines are looked for among that source's lines, anywhere: a test
 * imports at its top and runs the rest of the block in a function.
 */
export function expectBlocksRunIn(blocks: readonly string[], sources: readonly string[]): void {
  expect(blocks.length).toBeGreaterThan(0)
  for (const block of blocks) {
    const all = lines(block)
    let start = 0
    while (start < all.length && /^import .* from '[^']+'$/.test(all[start]!)) start++
    const imports = all.slice(0, start)
    const body = all.slice(start).join('\n')
    for (const line of all) {
      expect(
        sources.some((source) => source.includes(line)),
        line,
      ).toBe(true)
    }
    expect(
      sources.some(
        (source) => imports.every((line) => lines(source).includes(line)) && runsIn(source, body),
      ),
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

export interface ShellResult {
  readonly status: number
  readonly out: string
  readonly err: string
}

/**
 * Runs one README command with `sh` in `cwd`, nothing of the test's environment but `PATH`.
 * `commands` are scripts installed first on that `PATH` (in `cwd/.bin`) under the names the README
 * uses: the built CLI for `better-auth-keys`, say. Each gets the command's arguments as `"$@"`.
 */
export async function runShell(
  command: string,
  cwd: string,
  commands: Readonly<Record<string, string>> = {},
): Promise<ShellResult> {
  const bin = join(cwd, '.bin')
  await mkdir(bin, { recursive: true })
  for (const [name, script] of Object.entries(commands)) {
    await writeFile(join(bin, name), `#!/bin/sh\n${script}\n`, { mode: 0o755 })
  }
  return new Promise((resolve) => {
    execFile(
      'sh',
      ['-c', command],
      { cwd, env: { PATH: `${bin}:${process.env.PATH ?? ''}` } },
      (error, out, err) =>
        resolve({ status: error === null ? 0 : Number(error.code ?? 1), out, err }),
    )
  })
}
