#!/usr/bin/env node
// Holds each mutated package to its mutation-score floor in mutation-floors.json. The score is read
// from the package's checked-in stryker-incremental.json, the full report that every (incremental)
// Stryker run rewrites, so it always counts every mutant of the package, not only the rerun ones.
//
//   node scripts/mutation-floors.mjs [package…]   one row per package; exit 1 below a floor
//   node scripts/mutation-floors.mjs --markdown   the same rows as a Markdown table
//   node scripts/mutation-floors.mjs --record     write each package's score, and as its floor the
//                                                 score rounded down (after a full run)
//   node scripts/mutation-floors.mjs --changed    the packages whose mutated sources or tests differ
//                                                 from what their incremental file recorded (what
//                                                 an incremental run has to redo), one line
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'

/** @typedef {{ status: string }} Mutant */
/** @typedef {{ source: string, mutants?: Mutant[] }} ReportFile */
/** @typedef {{ files: Record<string, ReportFile>, testFiles?: Record<string, { source?: string }> }} Report */
/** @typedef {{ score: number, mutants: number, killed: number, survived: number, timeout: number, noCoverage: number, date: string }} Score */

const root = resolve(import.meta.dirname, '..')
const floorsPath = resolve(root, 'mutation-floors.json')
/** @returns {unknown} */
const readJson = (/** @type {string} */ path) => JSON.parse(readFileSync(path, 'utf8'))
/** @typedef {{ about: string, scores: Record<string, Score>, floors: Record<string, number> }} Floors */
const config = /** @type {Floors} */ (readJson(floorsPath))
const args = process.argv.slice(2)
const flags = new Set(args.filter((arg) => arg.startsWith('--')))
const named = args.filter((arg) => !arg.startsWith('--'))
const packages = named.length > 0 ? named : Object.keys(config.floors)

/** @returns {Report | undefined} */
function readReport(/** @type {string} */ pkg) {
  const path = resolve(root, 'packages', pkg, 'stryker-incremental.json')
  return existsSync(path) ? /** @type {Report} */ (readJson(path)) : undefined
}

/**
 * Stryker's mutation score: detected (killed, timed out) over valid mutants; compile and runtime
 * errors are invalid mutants, and ignored ones are not counted.
 * @returns {Score}
 */
function score(/** @type {Report} */ report) {
  const count = { killed: 0, survived: 0, timeout: 0, noCoverage: 0 }
  for (const file of Object.values(report.files)) {
    for (const { status } of file.mutants ?? []) {
      if (status === 'Killed') count.killed++
      else if (status === 'Timeout') count.timeout++
      else if (status === 'Survived') count.survived++
      else if (status === 'NoCoverage') count.noCoverage++
      else if (status === 'Pending') {
        throw new Error('the incremental file holds pending mutants: the run did not finish')
      }
    }
  }
  const mutants = count.killed + count.timeout + count.survived + count.noCoverage
  const detected = count.killed + count.timeout
  const value = mutants === 0 ? 100 : Math.floor((1000 * detected) / mutants) / 10
  return { score: value, mutants, ...count, date: new Date().toISOString().slice(0, 10) }
}

/** Every .ts file under `dir`, relative to the package directory. */
function sources(/** @type {string} */ pkgDir, /** @type {string} */ dir) {
  const full = join(pkgDir, dir)
  if (!existsSync(full)) return []
  return readdirSync(full, { recursive: true, encoding: 'utf8' })
    .filter((path) => path.endsWith('.ts'))
    .map((path) => relative(pkgDir, join(full, path)))
}

/** Whether the package's sources or tests differ from what its incremental file recorded. */
function changed(/** @type {string} */ pkg) {
  const report = readReport(pkg)
  if (report === undefined) return true
  const pkgDir = resolve(root, 'packages', pkg)
  /** @type {[string, string | undefined][]} */
  const recorded = [...Object.entries(report.files), ...Object.entries(report.testFiles ?? {})].map(
    ([path, file]) => [relative(pkgDir, resolve(pkgDir, path)), file.source],
  )
  for (const [path, source] of recorded) {
    const full = join(pkgDir, path)
    if (!existsSync(full) || (source !== undefined && readFileSync(full, 'utf8') !== source)) {
      return true
    }
  }
  const known = new Set(recorded.map(([path]) => path))
  // A new test file. (A new source file is only reached through an import, which changes a
  // recorded file; a source file without mutants, such as a re-export index, is not recorded.)
  // Stryker records only test files that cover a mutant, so an unrecorded one is new when git
  // shows it changed after the incremental file was last committed (or not committed at all).
  const recordedAt = commitTime(join(pkgDir, 'stryker-incremental.json'))
  return [...sources(pkgDir, 'src'), ...sources(pkgDir, 'test')].some(
    (path) =>
      path.endsWith('.test.ts') &&
      !known.has(path) &&
      (commitTime(join(pkgDir, path)) ?? Infinity) > (recordedAt ?? -Infinity),
  )
}

/** When `path` was last committed (seconds), or undefined when it has uncommitted changes. */
function commitTime(/** @type {string} */ path) {
  const git = (/** @type {string[]} */ args) =>
    execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim()
  if (git(['status', '--porcelain', '--', path]) !== '') return undefined
  const time = git(['log', '-1', '--format=%ct', '--', path])
  return time === '' ? undefined : Number(time)
}

if (flags.has('--changed')) {
  console.log(packages.filter(changed).join(' '))
  process.exit(0)
}

let breaches = 0
/** @type {{ pkg: string, measured: Score | undefined, floor: number | undefined }[]} */
const rows = []
for (const pkg of packages) {
  const report = readReport(pkg)
  const measured = report === undefined ? undefined : score(report)
  const floor = config.floors[pkg]
  if (measured === undefined || (floor !== undefined && measured.score < floor)) breaches++
  rows.push({ pkg, measured, floor })
}

if (flags.has('--record')) {
  for (const { pkg, measured } of rows) {
    if (measured === undefined) continue
    config.scores[pkg] = measured
    config.floors[pkg] = Math.floor(measured.score)
  }
  writeFileSync(floorsPath, `${JSON.stringify(config, null, 2)}\n`)
  console.log(`mutation: recorded ${rows.length} score(s) in mutation-floors.json`)
  process.exit(0)
}

const show = (/** @type {(typeof rows)[number]} */ { measured, floor }) =>
  measured === undefined
    ? 'no stryker-incremental.json (run make mutation)'
    : `${measured.score.toFixed(1)}% (floor ${floor ?? 'none'}%) of ${measured.mutants} mutants: ` +
      `${measured.killed} killed, ${measured.timeout} timed out, ${measured.survived} survived, ` +
      `${measured.noCoverage} not covered` +
      (floor !== undefined && measured.score < floor ? ' BELOW FLOOR' : '')
if (flags.has('--markdown')) {
  console.log('| package | mutation score |')
  console.log('| --- | --- |')
  for (const row of rows) console.log(`| \`${row.pkg}\` | ${show(row)} |`)
} else {
  for (const row of rows) console.log(`${row.pkg.padEnd(10)} ${show(row)}`)
}
if (breaches > 0) {
  console.error(`mutation: ${breaches} package(s) below their floor or not measured`)
  process.exit(1)
}
console.log(`mutation: all ${rows.length} floors met`)
