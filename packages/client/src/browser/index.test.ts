import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'

it('pins the public runtime exports of @better-auth/client/browser', async () => {
  const exports = Object.keys(await import('./index.js')).sort()
  expect(exports).toMatchInlineSnapshot(`
    [
      "IndexedDbRotatingKeyStore",
      "IndexedDbValueStore",
      "IndexedDbVerificationKeyStore",
      "forgetNamespace",
      "openBrowserStores",
      "requestPersistentStorage",
    ]
  `)
})

function sources(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name)
    if (entry.isDirectory()) return entry.name === 'testing-internal' ? [] : sources(path)
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : []
  })
}

it('imports only protocol, crypto and idb at runtime, and nothing Node-specific', () => {
  const files = sources(fileURLToPath(new URL('.', import.meta.url)))
  expect(files.length).toBeGreaterThan(4)
  const allowed = new Set(['@better-auth/protocol', '@better-auth/crypto', 'idb'])
  for (const file of files) {
    const text = readFileSync(file, 'utf8')
    expect(text, file).not.toMatch(/from ['"]node:|require\(|\bBuffer\b|\bprocess\./)
    const runtimeImports = [...text.matchAll(/^import (?!type )[^'"]*['"]([^'"]+)['"]/gm)].map(
      (m) => m[1]!,
    )
    for (const specifier of runtimeImports) {
      // The key-chain state machine is shared with the memory store; it imports only protocol.
      const local = specifier.startsWith('./') || specifier === '../stores/key-chain.js'
      expect(allowed.has(specifier) || local, `${file}: ${specifier}`).toBe(true)
    }
  }
})

/** Every package the module graph from `entry` imports at runtime (type imports excluded). */
function runtimePackages(entry: string): Set<string> {
  const packages = new Set<string>()
  const seen = new Set<string>()
  const visit = (file: string) => {
    if (seen.has(file)) return
    seen.add(file)
    const text = readFileSync(file, 'utf8')
    const statements = /^(?:import|export) (?!type )[^'"]*?from ['"]([^'"]+)['"]/gm
    for (const [, specifier] of text.matchAll(statements)) {
      if (specifier!.startsWith('.')) visit(join(dirname(file), specifier!.replace(/\.js$/, '.ts')))
      else packages.add(specifier!)
    }
  }
  visit(entry)
  return packages
}

it('keeps idb and @better-auth/crypto out of the main entry', () => {
  const main = fileURLToPath(new URL('../index.ts', import.meta.url))
  expect([...runtimePackages(main)].sort()).toEqual([
    '@better-auth/protocol',
    '@better-auth/protocol/internal',
  ])
  const browser = fileURLToPath(new URL('./index.ts', import.meta.url))
  expect([...runtimePackages(browser)].sort()).toEqual([
    '@better-auth/crypto',
    '@better-auth/protocol',
    'idb',
  ])
})
