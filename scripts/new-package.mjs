#!/usr/bin/env node
// Creates a workspace package with the project's standard layout:
//   node scripts/new-package.mjs <dir> <name> "<description>"
import { mkdirSync, writeFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'

const [dir = '', name = '', description = ''] = process.argv.slice(2)
if (dir === '' || name === '') {
  console.error('usage: new-package.mjs <dir> <name> [description]')
  process.exit(2)
}
if (existsSync(join(dir, 'package.json'))) {
  console.error(`${dir}/package.json exists`)
  process.exit(1)
}
const depth = dir.split('/').filter(Boolean).length
const up = '../'.repeat(depth)
mkdirSync(join(dir, 'src'), { recursive: true })
/** @param {string} file @param {unknown} value */
const json = (file, value) => writeFileSync(join(dir, file), JSON.stringify(value, null, 2) + '\n')
json('package.json', {
  name,
  version: '0.1.0',
  description,
  license: 'MIT',
  type: 'module',
  sideEffects: false,
  exports: {
    '.': {
      'dev-source': './src/index.ts',
      types: './dist/index.d.ts',
      default: './dist/index.js',
    },
  },
  files: ['dist', 'src', '!src/**/*.test.ts'],
  scripts: {
    build: 'tsc -p tsconfig.build.json',
    typecheck: 'tsc -p tsconfig.json',
    test: 'vitest run',
  },
  dependencies: {},
})
json('tsconfig.json', {
  extends: `${up}tsconfig.dev.json`,
  include: ['src', 'test'],
})
json('tsconfig.build.json', {
  extends: `${up}tsconfig.base.json`,
  compilerOptions: { outDir: 'dist', rootDir: 'src', types: [] },
  include: ['src'],
  exclude: ['src/**/*.test.ts', 'src/**/testing-internal/**'],
})
writeFileSync(
  join(dir, 'vitest.config.ts'),
  `import { project } from '${up}vitest.shared.js'\n\nexport default project()\n`,
)
writeFileSync(join(dir, 'src/index.ts'), 'export {}\n')
console.log(`created ${name} in ${dir}`)
