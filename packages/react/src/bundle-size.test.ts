import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { expect, it } from 'vitest'

const packageDir = fileURLToPath(new URL('..', import.meta.url))

interface Row {
  readonly name: string
  readonly minified: number
  readonly gzipped: number
}

/** `| `name` | 12 345 B | 6 789 B |` rows of the README's size table, by bundle name. */
function readmeRows(readme: string): Map<string, { minified: number; gzipped: number }> {
  const rows = new Map<string, { minified: number; gzipped: number }>()
  const row = /^\| (?:\*\*)?(.+?)(?:\*\*)? \| (?:\*\*)?([\d ]+) B(?:\*\*)? \| (?:\*\*)?([\d ]+) B/gm
  for (const [, name, minified, gzipped] of readme.matchAll(row)) {
    const bytes = (text: string) => Number(text.replaceAll(' ', ''))
    rows.set(name!.replaceAll('`', ''), { minified: bytes(minified!), gzipped: bytes(gzipped!) })
  }
  return rows
}

it('adds under 3 kB min+gzip over the client, as the README states', async () => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['scripts/bundle-size.mjs', '--json'],
    { cwd: packageDir },
  )
  const measured = JSON.parse(stdout) as Row[]
  const over = measured.find((row) => row.name === '@better-auth/react over the client')
  expect(over?.gzipped).toBeGreaterThan(0)
  expect(over!.gzipped).toBeLessThan(3_000)

  // The README's numbers may lag small changes, not large ones: re-measure and update them when
  // this fails (`node scripts/bundle-size.mjs`).
  const stated = readmeRows(await readFile(new URL('../README.md', import.meta.url), 'utf8'))
  for (const { name, minified, gzipped } of measured) {
    const row = stated.get(name)
    expect(row, `README row for ${name}`).toBeDefined()
    expect(Math.abs(row!.minified - minified) / minified, `${name} min`).toBeLessThan(0.1)
    expect(Math.abs(row!.gzipped - gzipped) / gzipped, `${name} gzip`).toBeLessThan(0.1)
  }
}, 60_000)
