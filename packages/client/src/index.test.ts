import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'

it('pins the public runtime exports', async () => {
  const exports = Object.keys(await import('./index.js')).sort()
  expect(exports).toMatchInlineSnapshot(`
    [
      "BetterAuthClient",
      "BetterAuthSession",
      "FetchNetwork",
      "KeyChainStore",
      "MemoryRotatingKeyStore",
      "MemoryValueStore",
      "MemoryVerificationKeyStore",
      "UnverifiedResponseError",
      "sameChainRecord",
    ]
  `)
})

function sources(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name)
    if (entry.isDirectory()) return sources(path)
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : []
  })
}

it('imports nothing Node-specific outside tests, so it runs in browsers and edge runtimes', () => {
  const files = sources(fileURLToPath(new URL('.', import.meta.url)))
  expect(files.length).toBeGreaterThan(5)
  for (const file of files) {
    const text = readFileSync(file, 'utf8')
    expect(text, file).not.toMatch(
      /from ['"]node:|require\(|from ['"](fs|path|http|crypto|buffer)['"]/,
    )
    expect(text, file).not.toMatch(/\bBuffer\b|\bprocess\./)
  }
})

it('imports only @better-auth/protocol at runtime', () => {
  const files = sources(fileURLToPath(new URL('.', import.meta.url))).filter(
    (file) => !file.includes('testing-internal') && !file.includes('/browser/'),
  )
  for (const file of files) {
    const text = readFileSync(file, 'utf8')
    const runtimeImports = [...text.matchAll(/^import (?!type )[^'"]*['"]([^'"]+)['"]/gm)].map(
      (m) => m[1],
    )
    for (const specifier of runtimeImports) {
      expect(
        specifier === '@better-auth/protocol' ||
          specifier!.startsWith('./') ||
          specifier!.startsWith('../'),
        `${file}: ${specifier}`,
      ).toBe(true)
    }
  }
})
