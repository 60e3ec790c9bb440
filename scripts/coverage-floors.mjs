#!/usr/bin/env node
// Holds each package (and each verification path inside one) to its coverage floor in
// coverage-floors.json, reading the json-summary that `vitest run --coverage` wrote. Prints one
// row per floor and exits 1 when any measured percentage is below its floor.
//
//   node scripts/coverage-floors.mjs [summary.json]   default test-artifacts/coverage/coverage-summary.json
//   node scripts/coverage-floors.mjs --markdown       the same rows as a Markdown table
import { readFileSync } from 'node:fs'
import { dirname, relative, resolve } from 'node:path'

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

/**
 * Per-file detail (istanbul's coverage-final.json, written next to the summary) to name what a
 * breached floor left uncovered; absent detail only loses that listing.
 * @typedef {{ start: { line: number } }} Location
 * @typedef {{ statementMap: Record<string, Location>, s: Record<string, number>,
 *   branchMap: Record<string, { locations: Location[] }>, b: Record<string, number[]> }} FileDetail
 */
/** @type {Record<string, FileDetail>} */
let detail = {}
try {
  const raw = /** @type {Record<string, FileDetail>} */ (
    readJson(resolve(dirname(summaryPath), 'coverage-final.json'))
  )
  detail = Object.fromEntries(
    Object.entries(raw).map(([path, file]) => [relative(root, path), file]),
  )
} catch {
  // Older runs wrote only the summary.
}

/** "12, 40-42" from line numbers. */
const ranges = (/** @type {number[]} */ lines) => {
  const sorted = [...new Set(lines)].sort((a, b) => a - b)
  /** @type {string[]} */
  const out = []
  for (let i = 0; i < sorted.length; i++) {
    let j = i
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++
    out.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`)
    i = j
  }
  return out.join(', ')
}

/** @param {string} path */
const uncovered = (path) => {
  const file = detail[path]
  if (file === undefined) return undefined
  const lines = Object.entries(file.s)
    .filter(([, hits]) => hits === 0)
    .map(([id]) => file.statementMap[id]?.start.line ?? 0)
  const branches = Object.entries(file.b).flatMap(([id, hits]) =>
    hits.flatMap((count, arm) =>
      count === 0 ? [file.branchMap[id]?.locations[arm]?.start.line ?? 0] : [],
    ),
  )
  return { lines: ranges(lines), branches: ranges(branches) }
}

let breaches = 0
/** @type {string[]} */
const breachDetails = []
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
  const row = { scope, lines: cell(METRICS[0]), branches: cell(METRICS[1]) }
  rows.push(row)
  if (row.lines.measured < row.lines.floor || row.branches.measured < row.branches.floor) {
    for (const [path] of matched) {
      const missed = uncovered(path)
      if (missed === undefined) continue
      if (missed.lines !== '' || missed.branches !== '') {
        breachDetails.push(
          `  ${path}: lines ${missed.lines || '-'}; branches ${missed.branches || '-'}`,
        )
      }
    }
  }
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
  if (breachDetails.length > 0)
    console.error(`uncovered in breached scopes:\n${breachDetails.join('\n')}`)
  console.error(`coverage: ${breaches} floor(s) breached`)
  process.exit(1)
}
console.log(`coverage: all ${rows.length} floors met`)
