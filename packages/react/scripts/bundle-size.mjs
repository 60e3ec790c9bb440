#!/usr/bin/env node
// What @better-auth/react adds to a browser app over @better-auth/client: both bundled with
// everything they import (react itself external: the app has it anyway), minified, tree-shaken,
// gzipped, measured the way examples/web/scripts/bundle-size.mjs measures the client entries.
//
// usage: node scripts/bundle-size.mjs [--json]
// src/bundle-size.test.ts runs it: the React package must add under 3 kB min+gzip, and the
// README's table must state what it measures.
import { build } from 'esbuild'
import { argv, stdout } from 'node:process'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'

const packageDir = fileURLToPath(new URL('..', import.meta.url))

/**
 * @param {string} contents
 * @returns {Promise<{ minified: number, gzipped: number }>}
 */
async function measure(contents) {
  const result = await build({
    stdin: { contents, resolveDir: packageDir, loader: 'js', sourcefile: 'entry.js' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['dev-source'],
    external: ['react', 'react-dom'],
    write: false,
    logLevel: 'warning',
  })
  const code = result.outputFiles[0].contents
  return { minified: code.length, gzipped: gzipSync(code, { level: 9 }).length }
}

const client = await measure(`export * from '@better-auth/client'`)
const both = await measure(`export * from '@better-auth/client'\nexport * from './src/index.ts'`)
/** @type {[string, { minified: number, gzipped: number }][]} */
const rows = [
  ['@better-auth/client', client],
  ['@better-auth/client + @better-auth/react', both],
  [
    '@better-auth/react over the client',
    { minified: both.minified - client.minified, gzipped: both.gzipped - client.gzipped },
  ],
]
if (argv.includes('--json')) {
  const json = rows.map(([name, sizes]) => ({ name, ...sizes }))
  stdout.write(`${JSON.stringify(json, null, 2)}\n`)
} else {
  for (const [name, { minified, gzipped }] of rows) {
    stdout.write(
      `${name.padEnd(44)} ${String(minified).padStart(7)} B min  ${String(gzipped).padStart(6)} B gzip\n`,
    )
  }
}
