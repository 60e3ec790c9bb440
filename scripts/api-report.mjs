#!/usr/bin/env node
// The public API report of every published package: one API Extractor report per entry of the
// package's exports map, checked in as packages/<dir>/api/<entry>.api.md. Run after the build (it
// reads the emitted .d.ts files, as users' compilers do).
//
//   node scripts/api-report.mjs            check: the reports match the code, and every report
//                                          change since the base has a changeset of its kind
//   node scripts/api-report.mjs --update   rewrite the reports after an intended API change
//
// The base is API_BASE (any git revision; set it to main on a branch) or else the release tag of
// each package's current version (`<name>@<version>`, as `changeset publish` tags it). A package
// never released has no base: all its exports count as added.
import { execFileSync } from 'node:child_process'
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import {
  CompilerState,
  Extractor,
  ExtractorConfig,
  ExtractorLogLevel,
} from '@microsoft/api-extractor'

const ROOT = join(import.meta.dirname, '..')
const update = process.argv.includes('--update')

/** @typedef {{ types?: string }} ExportTarget */
/** @typedef {{ name: string, version: string, private?: boolean, exports?: Record<string, ExportTarget> }} PackageJson */
/** @typedef {{ dir: string, pkg: PackageJson }} Workspace */
/** @typedef {'patch' | 'minor' | 'major'} Bump */

/** @returns {Workspace[]} */
function publishedPackages() {
  return readdirSync(join(ROOT, 'packages'))
    .map((dir) => join(ROOT, 'packages', dir))
    .filter((dir) => existsSync(join(dir, 'package.json')))
    .map((dir) => ({
      dir,
      // eslint-disable-next-line @typescript-eslint/no-unsafe-assignment -- JSON, typed by the JSDoc cast
      pkg: /** @type {PackageJson} */ (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))),
    }))
    .filter(({ pkg }) => pkg.private !== true)
}

/** `.` → `server`, `./testing/node` → `server-testing-node`. */
function reportName(/** @type {string} */ dir, /** @type {string} */ subpath) {
  const base = dir.split('/').pop() ?? ''
  return [base, ...subpath.split('/').slice(1)].join('-')
}

/** API Extractor's configuration for one entry; the report goes to `scratch`/report. */
function configure(
  /** @type {Workspace} */ { dir, pkg },
  /** @type {string} */ subpath,
  /** @type {string} */ types,
  /** @type {string} */ scratch,
) {
  const name = reportName(dir, subpath)
  const level = (/** @type {'warning' | 'none'} */ logLevel, addToApiReportFile = false) => ({
    logLevel,
    addToApiReportFile,
  })
  mkdirSync(join(scratch, 'report'), { recursive: true })
  const config = ExtractorConfig.prepare({
    configObjectFullPath: join(dir, 'api-extractor.json'),
    packageJsonFullPath: join(dir, 'package.json'),
    configObject: {
      projectFolder: dir,
      mainEntryPointFilePath: join(dir, types),
      compiler: {
        overrideTsconfig: {
          compilerOptions: {
            target: 'ES2022',
            lib: ['ES2022', 'DOM'],
            module: 'NodeNext',
            moduleResolution: 'NodeNext',
            strict: true,
            skipLibCheck: true,
            types: ['node'],
          },
          files: [join(dir, types)],
        },
      },
      apiReport: {
        enabled: true,
        reportFileName: name,
        reportFolder: join(scratch, 'report'),
        reportTempFolder: join(scratch, 'temp'),
      },
      docModel: { enabled: false },
      dtsRollup: { enabled: false },
      tsdocMetadata: { enabled: false },
      newlineKind: 'lf',
      messages: {
        compilerMessageReporting: { default: level('warning') },
        // Findings about the API (a type used but not exported, …) go into the report, where
        // review sees them; release tags are not used in this repository.
        extractorMessageReporting: {
          default: level('warning', true),
          'ae-missing-release-tag': level('none'),
          'ae-undocumented': level('none'),
        },
        // The TSDoc dialect (TypeDoc's @module, …) is checked by `pnpm run docs:api`.
        tsdocMessageReporting: { default: level('none') },
      },
    },
  })
  return {
    config,
    label: `${pkg.name}${subpath.slice(1)}`,
    output: join(scratch, 'report', `${name}.api.md`),
  }
}

/**
 * Each entry's report, as text. One TypeScript program serves every entry: building it is most of
 * the time, and every entry reads the same emitted .d.ts files.
 */
function generate(/** @type {ReturnType<typeof configure>[]} */ entries) {
  const [first] = entries
  if (first === undefined) return []
  const compilerState = CompilerState.create(first.config, {
    additionalEntryPoints: entries.map(({ config }) => config.mainEntryPointFilePath),
  })
  return entries.map(({ config, label, output }) => {
    const result = Extractor.invoke(config, {
      compilerState,
      localBuild: true,
      showVerboseMessages: false,
      messageCallback: (message) => {
        const routine = message.messageId.startsWith('console-api-report-')
        if (
          !routine &&
          (message.logLevel === ExtractorLogLevel.Warning ||
            message.logLevel === ExtractorLogLevel.Error)
        ) {
          console.error(`${label}: ${message.formatMessageWithLocation(ROOT)}`)
        }
        message.handled = true
      },
    })
    if (!result.succeeded) throw new Error(`API Extractor failed on ${label}`)
    return readFileSync(output, 'utf8')
  })
}

/** The report lines that are API: declarations, not comments or blank lines. */
function apiLines(/** @type {string} */ text) {
  return String(text)
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('//') && !line.startsWith('```'))
}

/**
 * What a report change asks of the version: a line removed or changed is breaking; only lines
 * added is an addition. Line-level, so it errs towards breaking; an added line that breaks (a new
 * required member of an interface applications implement) still needs a reviewer's major.
 * @returns {Bump | undefined}
 */
function requiredBump(/** @type {string | undefined} */ before, /** @type {string} */ after) {
  if (before === undefined) return apiLines(after).length > 0 ? 'minor' : undefined
  const old = apiLines(before)
  const now = apiLines(after)
  const kept = new Set(now)
  if (old.some((line) => !kept.has(line))) return 'major'
  const was = new Set(old)
  return now.some((line) => !was.has(line)) ? 'minor' : undefined
}

function git(/** @type {string[]} */ args) {
  return execFileSync('git', args, {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  })
}

function revisionExists(/** @type {string} */ rev) {
  try {
    git(['rev-parse', '--verify', '--quiet', `${rev}^{commit}`])
    return true
  } catch {
    return false
  }
}

/** The package's base revision, or undefined when it has never been released. */
function baseOf(/** @type {PackageJson} */ pkg) {
  const base = process.env['API_BASE'] || `${pkg.name}@${pkg.version}`
  if (revisionExists(base)) return base
  if (process.env['API_BASE']) throw new Error(`API_BASE=${base} is not a git revision`)
  return undefined
}

function fileAt(/** @type {string} */ rev, /** @type {string} */ path) {
  try {
    return git(['show', `${rev}:${path}`])
  } catch {
    return undefined
  }
}

const BUMPS = /** @type {const} */ (['patch', 'minor', 'major'])

/**
 * The bump each package gets from the changesets pending since `base` (all pending changesets
 * when there is no base: a release consumes them).
 * @returns {Map<string, Bump>}
 */
function pendingBumps(/** @type {string | undefined} */ base) {
  const dir = join(ROOT, '.changeset')
  const files = readdirSync(dir).filter((file) => file.endsWith('.md') && file !== 'README.md')
  const atBase = base === undefined ? '' : git(['ls-tree', '--name-only', base, '.changeset/'])
  const existing = new Set(atBase.split('\n').map((path) => path.replace('.changeset/', '')))
  /** @type {Map<string, Bump>} */
  const bumps = new Map()
  for (const file of files.filter((name) => !existing.has(name))) {
    const front = /^---\n([\s\S]*?)\n---/.exec(readFileSync(join(dir, file), 'utf8'))?.[1] ?? ''
    const entry = /^\s*['"]?([^'":]+)['"]?\s*:\s*(patch|minor|major)\s*$/gm
    for (let match = entry.exec(front); match !== null; match = entry.exec(front)) {
      const name = match[1] ?? ''
      const bump = /** @type {Bump} */ (match[2] ?? 'patch')
      const previous = bumps.get(name)
      if (previous === undefined || BUMPS.indexOf(bump) > BUMPS.indexOf(previous)) {
        bumps.set(name, bump)
      }
    }
  }
  return bumps
}

const scratch = mkdtempSync(join(tmpdir(), 'api-report-'))
const problems = []
try {
  const packages = publishedPackages().map((workspace) => ({
    ...workspace,
    entries: Object.entries(workspace.pkg.exports ?? {}).flatMap(([subpath, target]) =>
      target.types === undefined ? [] : [{ subpath, name: reportName(workspace.dir, subpath) }],
    ),
  }))
  const configs = packages.flatMap((workspace) =>
    workspace.entries.map(({ subpath, name }) =>
      configure(
        workspace,
        subpath,
        workspace.pkg.exports?.[subpath]?.types ?? '',
        join(scratch, name),
      ),
    ),
  )
  const reports = generate(configs)
  for (const { dir, pkg, entries } of packages) {
    const reportDir = join(dir, 'api')
    const wanted = new Set()
    const base = update ? undefined : baseOf(pkg)
    /** @type {Bump | undefined} */
    let required
    const changed = []
    for (const { subpath, name } of entries) {
      const file = join(reportDir, `${name}.api.md`)
      const path = relative(ROOT, file)
      wanted.add(`${name}.api.md`)
      const report = reports.shift() ?? ''
      const checkedIn = existsSync(file) ? readFileSync(file, 'utf8') : undefined
      if (update) {
        if (checkedIn !== report) {
          mkdirSync(reportDir, { recursive: true })
          writeFileSync(file, report)
          console.log(`updated ${path}`)
        }
        continue
      }
      if (checkedIn !== report) {
        problems.push(`${path} does not match the code: run \`pnpm run api:update\` and review it`)
        continue
      }
      // `internal` entries are shared by the packages and promise nothing to users.
      if (subpath === './internal') continue
      const bump = requiredBump(base === undefined ? undefined : fileAt(base, path), report)
      if (bump === undefined) continue
      changed.push(`${path} (${bump === 'major' ? 'removed or changed' : 'added'})`)
      if (required === undefined || BUMPS.indexOf(bump) > BUMPS.indexOf(required)) required = bump
    }
    for (const stale of existsSync(reportDir) ? readdirSync(reportDir) : []) {
      if (wanted.has(stale)) continue
      if (update) {
        rmSync(join(reportDir, stale))
        console.log(`removed ${relative(ROOT, join(reportDir, stale))}`)
      } else {
        problems.push(
          `${relative(ROOT, join(reportDir, stale))} reports no entry of the exports map`,
        )
      }
    }
    if (required === undefined) continue
    const pending = pendingBumps(base).get(pkg.name)
    if (pending === undefined || BUMPS.indexOf(pending) < BUMPS.indexOf(required)) {
      problems.push(
        `${pkg.name}: its API changed since ${base ?? 'it was first written (never released)'}` +
          ` (${changed.join(', ')}), which needs a '${required}' changeset; pending: ${pending ?? 'none'}`,
      )
    }
  }
} finally {
  rmSync(scratch, { recursive: true, force: true })
}

if (problems.length > 0) {
  for (const problem of problems) console.error(`::: ${problem}`)
  process.exit(1)
}
console.log(update ? 'API reports are up to date' : 'API reports match the code and the changesets')
