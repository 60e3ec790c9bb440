#!/usr/bin/env node
// Holds each package (and each verification path inside one) to its coverage floor in
// coverage-floors.json, reading the json-summary that `vitest run --coverage` wrote. Prints one
// row per floor and exits 1 when any measured percentage is below its floor.
//
//   node scripts/coverage-floors.mjs [summary.json]   default test-artifacts/coverage/coverage-summary.json
//   node scripts/coverage-floors.mjs --markdown       the same rows as a Markdown table
import { readFileSync } from 'node:fs'
import { relative, resolve } from 'node:path'

/** @typedef {{ total: number, covered: number }} Count */
/** @typedef {{ lines: Count, branches: Count }} FileCoverage */
/** @typedef {{ lines: number, branches: number }} Floor */
/** @typedef {{ measured: number, floor: number }} Cell */

const METRICS = /** @type {const} */ (['lines', 'branches'])
const root = resolve(import.meta.dirname, '..')
const args = process.argv.slice(2)
const markdown = args.includes('--markdown')
const summaryPath = resolve(
  args.find((arg) => !arg.startsWith('--')) ?? 'test-artifacts/coverage/coverage-summary.json',
)
/** @returns {unknown} */
const readJson = (/** @type {string} */ path) => JSON.parse(readFileSync(path, 'utf8'))
const config = /** @type {{ floors: Record<string, Floor> }} */ (
  readJson(resolve(root, 'coverage-floors.json'))
)
/** @type {Record<string, FileCoverage>} */
let summary
try {
  summary = /** @type {Record<string, FileCoverage>} */ (readJson(summaryPath))
} catch (error) {
  console.error(`coverage: cannot read ${summaryPath} (run the tests with COVERAGE=1): ${error}`)
  process.exit(1)
}

/** @type {[string, FileCoverage][]} */
const files = Object.entries(summary)
  .filter(([path]) => path !== 'total')
  .map(([path, metrics]) => [relative(root, path), metrics])

/** A file with nothing to count (type-only modules) counts as covered, as in istanbul. */
const percent = (/** @type {Count} */ { covered, total }) =>
  total === 0 ? 100 : (100 * covered) / total

let breaches = 0
/** @type {{ scope: string, lines: Cell, branches: Cell }[]} */
const rows = []
for (const [scope, floor] of Object.entries(config.floors)) {
  const matched = files.filter(([path]) => path === scope || path.startsWith(scope))
  if (matched.length === 0) {
    // A floor that measures nothing would pass forever: a renamed path must fail loudly.
    console.error(`coverage: no measured file under ${scope}`)
    breaches++
    continue
  }
  /** @param {'lines' | 'branches'} metric */
  const cell = (metric) => {
    const sum = { covered: 0, total: 0 }
    for (const [, metrics] of matched) {
      sum.covered += metrics[metric].covered
      sum.total += metrics[metric].total
    }
    // Floors have one decimal: compare at that precision, rounding down.
    const measured = Math.floor(percent(sum) * 10) / 10
    if (measured < floor[metric]) breaches++
    return { measured, floor: floor[metric] }
  }
  rows.push({ scope, lines: cell(METRICS[0]), branches: cell(METRICS[1]) })
}

const show = (/** @type {Cell} */ { measured, floor }) =>
  `${measured.toFixed(1)}% (floor ${floor}%)${measured < floor ? ' BELOW FLOOR' : ''}`
if (markdown) {
  console.log('| scope | lines | branches |')
  console.log('| --- | --- | --- |')
  for (const row of rows) {
    console.log(`| \`${row.scope}\` | ${show(row.lines)} | ${show(row.branches)} |`)
  }
} else {
  for (const row of rows) {
    console.log(
      `${row.scope.padEnd(48)} lines ${show(row.lines).padEnd(28)} branches ${show(row.branches)}`,
    )
  }
}
if (breaches > 0) {
  console.error(`coverage: ${breaches} floor(s) breached`)
  process.exit(1)
}
console.log(`coverage: all ${rows.length} floors met`)
