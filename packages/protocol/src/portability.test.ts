import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'

const packages = fileURLToPath(new URL('../../', import.meta.url))

/** Source files that ship in a runtime-agnostic entry point (tests and Node subpaths excluded). */
function runtimeSources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) {
      return ['node', 'testing-internal'].includes(name) ? [] : runtimeSources(path)
    }
    return name.endsWith('.ts') && !name.endsWith('.test.ts') ? [path] : []
  })
}

it.each(['cesr', 'protocol', 'crypto', 'client'])(
  '@better-auth/%s runs in browsers and edge runtimes: no node: imports, no Buffer, no process',
  (name) => {
    const offenders = runtimeSources(join(packages, name, 'src')).filter((file) => {
      const text = readFileSync(file, 'utf8')
      return /from ['"]node:|import\(['"]node:|\bBuffer\.|\bprocess\./.test(text)
    })
    expect(offenders.map((file) => relative(packages, file))).toEqual([])
  },
)
