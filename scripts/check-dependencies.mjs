#!/usr/bin/env node
// Supply-chain checks of the published packages (README, Dependency policy):
//
//   node scripts/check-dependencies.mjs licences   every package in the production tree of every
//                                                  published package has an allowed licence
//   node scripts/check-dependencies.mjs budget     each published package installs at most its
//                                                  budget of third-party packages
//   node scripts/check-dependencies.mjs audit      `pnpm audit --prod` at the policy's level
//
// The production tree is what installing the package from the registry brings in: its
// `dependencies` and `optionalDependencies`, transitively, through the workspace packages it
// depends on. Peer dependencies (fastify, hono, vitest for /testing) are the application's.
/* eslint-disable @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-assignment,
   @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-return --
   package.json files are JSON, which plain JavaScript cannot type for the linter */
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs'
import { dirname, join } from 'node:path'

const ROOT = join(import.meta.dirname, '..')
const policy = readJson(join(import.meta.dirname, 'dependency-policy.json'))

/** @returns {Record<string, any>} */
function readJson(/** @type {string} */ file) {
  return JSON.parse(readFileSync(file, 'utf8'))
}

/** Node's lookup: the nearest node_modules/<name> from `from` upwards (pnpm's layout keeps it). */
function locate(/** @type {string} */ from, /** @type {string} */ name) {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name)
    if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate)
    if (dirname(dir) === dir) throw new Error(`${name} is not installed (needed by ${from})`)
  }
}

/**
 * Every package in the production tree of the package at `dir`, keyed by name@version, with its
 * directory; `dir` itself excluded.
 * @returns {Map<string, { name: string, version: string, dir: string, workspace: boolean }>}
 */
function productionTree(/** @type {string} */ dir) {
  const found = new Map()
  const pending = [realpathSync(dir)]
  while (pending.length > 0) {
    const current = pending.pop() ?? ''
    const pkg = readJson(join(current, 'package.json'))
    const names = Object.keys({ ...pkg['dependencies'], ...pkg['optionalDependencies'] })
    for (const name of names) {
      let target
      try {
        target = locate(current, name)
      } catch (error) {
        // An optional dependency for another platform is legitimately absent.
        if (name in (pkg['optionalDependencies'] ?? {})) continue
        throw error
      }
      const dep = readJson(join(target, 'package.json'))
      const key = `${String(dep['name'])}@${String(dep['version'])}`
      if (found.has(key)) continue
      const workspace = !target.includes(`${join('node_modules', '.pnpm')}`)
      found.set(key, {
        name: String(dep['name']),
        version: String(dep['version']),
        dir: target,
        workspace,
      })
      pending.push(target)
    }
  }
  return found
}

function publishedPackages() {
  return readdirSync(join(ROOT, 'packages'))
    .map((name) => join(ROOT, 'packages', name))
    .filter((dir) => existsSync(join(dir, 'package.json')))
    .map((dir) => ({ dir, pkg: readJson(join(dir, 'package.json')) }))
    .filter(({ pkg }) => pkg['private'] !== true)
}

/** An SPDX expression is allowed when each AND term has an allowed alternative among its ORs. */
function licenceAllowed(/** @type {string} */ expression, /** @type {Set<string>} */ allowed) {
  const terms = expression.replace(/[()]/g, ' ').split(/\s+AND\s+/)
  return terms.every((term) => term.split(/\s+OR\s+/).some((id) => allowed.has(id.trim())))
}

function licenceOf(/** @type {Record<string, any>} */ pkg) {
  const licence = pkg['license'] ?? pkg['licenses']
  if (typeof licence === 'string') return licence
  if (Array.isArray(licence)) {
    return licence.map((entry) => String(entry?.type ?? entry)).join(' OR ')
  }
  if (typeof licence === 'object' && licence !== null) return String(licence.type)
  return 'UNKNOWN'
}

function checkLicences() {
  const allowed = new Set(/** @type {string[]} */ (policy['licences']))
  const problems = new Map()
  const checked = new Set()
  for (const { dir, pkg } of publishedPackages()) {
    const own = licenceOf(pkg)
    if (!licenceAllowed(own, allowed)) problems.set(String(pkg['name']), `${own} (our own package)`)
    for (const [key, dep] of productionTree(dir)) {
      if (dep.workspace) continue
      checked.add(key)
      const licence = licenceOf(readJson(join(dep.dir, 'package.json')))
      if (!licenceAllowed(licence, allowed)) {
        problems.set(key, `${licence} (in the production tree of ${String(pkg['name'])})`)
      }
    }
  }
  for (const [key, why] of problems) console.error(`::: ${key}: licence ${why} is not allowed`)
  if (problems.size > 0) return false
  console.log(`licences: ${checked.size} production dependencies, all ${[...allowed].join(', ')}`)
  return true
}

function checkBudget() {
  const budgets = /** @type {Record<string, number>} */ (policy['budgets'])
  let ok = true
  for (const { dir, pkg } of publishedPackages()) {
    const name = String(pkg['name'])
    const external = [...productionTree(dir).entries()].filter(([, dep]) => !dep.workspace)
    const budget = budgets[name]
    const line = `${name}: ${external.length} third-party packages (budget ${budget ?? 'none'})`
    if (budget === undefined || external.length > budget) {
      ok = false
      const list = external.map(([key]) => key).join(', ')
      console.error(
        `::: ${line}: ${list || 'none'}; raise the budget in scripts/dependency-policy.json only with a reason in review`,
      )
    } else {
      console.log(line)
    }
  }
  return ok
}

/**
 * `pnpm audit` against the registry's advisory service. A registry that does not offer the
 * service (the mirror answers 405) is reported, and fails the step only when AUDIT_REQUIRED=1:
 * no advisory data can be checked there, and failing every run would hide the other steps.
 */
function audit() {
  const pnpm = process.env['PNPM'] ?? 'npx -y pnpm@10'
  const level = String(policy['auditLevel'])
  const [command = 'npx', ...args] = pnpm.split(' ')
  let output = ''
  let status = 0
  try {
    output = execFileSync(command, [...args, 'audit', '--prod', '--audit-level', level], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    })
  } catch (error) {
    const failure = /** @type {{ status?: number, stdout?: string, stderr?: string }} */ (error)
    status = failure.status ?? 1
    output = `${failure.stdout ?? ''}${failure.stderr ?? ''}`
  }
  const unavailable =
    /ERR_PNPM_AUDIT_(BAD_RESPONSE|ENDPOINT_NOT_EXISTS)|ERR_PNPM_FETCH|ECONNREFUSED|ENOTFOUND|EAI_AGAIN/.test(
      output,
    )
  if (status !== 0 && unavailable) {
    console.error(output.trim())
    console.error(`::: audit: the registry's advisory service did not answer; nothing was checked`)
    return process.env['AUDIT_REQUIRED'] !== '1'
  }
  console.log(output.trim())
  if (status !== 0) {
    console.error(
      /vulnerabilit/i.test(output)
        ? `::: audit: advisories at or above '${level}' (policy: README, Dependency policy)`
        : '::: audit: pnpm audit could not run',
    )
  }
  return status === 0
}

const checks = { licences: checkLicences, budget: checkBudget, audit }
const which = process.argv[2] ?? ''
if (!(which in checks)) {
  console.error(`usage: check-dependencies.mjs ${Object.keys(checks).join('|')}`)
  process.exit(2)
}
process.exit(checks[/** @type {keyof typeof checks} */ (which)]() ? 0 : 1)
