import { readFileSync, readdirSync } from 'node:fs'
import { builtinModules } from 'node:module'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import * as api from './index.js'

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const NODE_DIR = join(SRC, 'node')

// import/export … from '…', import '…', import('…') and require('…'): every way a module names
// another one. Comments could produce false positives, which would fail loudly, never silently.
const SPECIFIER = /\b(?:from\s*|import\s*\(\s*|import\s+|require\s*\(\s*)['"]([^'"]+)['"]/g

function isBuiltin(specifier: string): boolean {
  return specifier.startsWith('node:') || builtinModules.includes(specifier.split('/')[0] ?? '')
}

function specifiers(file: string): string[] {
  return [...readFileSync(file, 'utf8').matchAll(SPECIFIER)].map((m) => m[1] ?? '')
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return path === NODE_DIR ? [] : sourceFiles(path)
    return entry.name.endsWith('.ts') ? [path] : []
  })
}

describe('@better-auth/crypto/node public API', () => {
  it('exports exactly these names', () => {
    expect(Object.keys(api).sort()).toEqual([
      'NodeGzipTokenEncoder',
      'NodeP256SigningKey',
      'NodeP256Verifier',
    ])
  })
})

describe('the main entry stays free of Node built-ins', () => {
  it('no file under src/ outside src/node imports a node: (or bare built-in) module', () => {
    const files = sourceFiles(SRC)
    // Sanity check that the walk found the tree, so an empty list cannot pass vacuously.
    expect(files.map((f) => relative(SRC, f))).toContain('index.ts')
    expect(files.length).toBeGreaterThan(20)
    const offenders = files.flatMap((file) =>
      specifiers(file)
        .filter(isBuiltin)
        .map((specifier) => `${relative(SRC, file)}: ${specifier}`),
    )
    expect(offenders).toEqual([])
  })

  it('nothing reachable from src/index.ts imports src/node', () => {
    const seen = new Set<string>()
    const pending = [join(SRC, 'index.ts')]
    while (pending.length > 0) {
      const file = pending.pop()!
      if (seen.has(file)) continue
      seen.add(file)
      for (const specifier of specifiers(file)) {
        if (!specifier.startsWith('.')) continue
        pending.push(resolve(dirname(file), specifier.replace(/\.js$/, '.ts')))
      }
    }
    expect(seen.size).toBeGreaterThan(10)
    expect([...seen].filter((file) => file.startsWith(NODE_DIR))).toEqual([])
  })

  it('the check itself catches the imports of the node entry', () => {
    const nodeImports = readdirSync(NODE_DIR)
      .filter((name) => name.endsWith('.ts'))
      .flatMap((name) => specifiers(join(NODE_DIR, name)))
      .filter(isBuiltin)
    expect(nodeImports).toContain('node:crypto')
  })
})
