#!/usr/bin/env node
// Measures what each client entry point costs a browser app: bundled with everything it imports
// (protocol, cesr, crypto, noble, idb), minified, tree-shaken, then gzipped. Workspace packages
// are read from their TypeScript sources (`dev-source`), so no build is needed first.
//
// usage: node scripts/bundle-size.mjs [--json]
import { build } from 'esbuild'
import { argv, stdout } from 'node:process'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'

const webDir = fileURLToPath(new URL('..', import.meta.url))

const entries = [
  ['@better-auth/client', `export * from '@better-auth/client'`],
  ['@better-auth/client/browser', `export * from '@better-auth/client/browser'`],
  [
    'client + browser + crypto defaults (what the example app uses)',
    [
      `export * from '@better-auth/client'`,
      `export * from '@better-auth/client/browser'`,
      `export { Blake3Hasher, Rfc3339Timestamper, SecureNoncer } from '@better-auth/crypto'`,
    ].join('\n'),
  ],
]

/**
 * Bundles `contents` (an entry module) and returns minified and gzipped byte counts.
 * @param {string} contents
 * @returns {Promise<{ minified: number, gzipped: number, packages: Record<string, number> }>}
 */
async function measure(contents) {
  const result = await build({
    stdin: { contents, resolveDir: webDir, loader: 'js', sourcefile: 'entry.js' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['dev-source'],
    write: false,
    metafile: true,
    logLevel: 'warning',
  })
  const code = result.outputFiles[0].contents
  /** @type {Map<string, number>} */
  const packages = new Map()
  for (const [path, { bytesInOutput }] of Object.entries(
    Object.values(result.metafile.outputs)[0].inputs,
  )) {
    // pnpm paths nest node_modules; the last one names the package. Workspace packages sit in
    // packages/<name>.
    const dependency = /.*node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1]
    const workspace = /(?:^|\/)packages\/([^/]+)\//.exec(path)?.[1]
    const pkg = dependency ?? (workspace === undefined ? undefined : `@better-auth/${workspace}`)
    if (pkg !== undefined) packages.set(pkg, (packages.get(pkg) ?? 0) + bytesInOutput)
  }
  return {
    minified: code.length,
    gzipped: gzipSync(code, { level: 9 }).length,
    packages: Object.fromEntries([...packages].sort((a, b) => b[1] - a[1])),
  }
}

/** @param {number} bytes */
const kB = (bytes) => `${(bytes / 1000).toFixed(1)} kB`
/** @param {string} line */
const print = (line) => stdout.write(`${line}\n`)
const results = []
for (const [name, contents] of entries) results.push({ name, ...(await measure(contents)) })

if (argv.includes('--json')) {
  print(JSON.stringify(results, null, 2))
} else {
  for (const { name, minified, gzipped, packages } of results) {
    print(`${name}\n  minified ${kB(minified)}, minified + gzip ${kB(gzipped)}`)
    const parts = Object.entries(packages).map(([pkg, bytes]) => `${pkg} ${kB(bytes)}`)
    print(`  minified bytes by package: ${parts.join(', ')}`)
  }
}
