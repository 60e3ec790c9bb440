import type { CaseResult } from '../adversarial/run.js'
import type { MatrixReport, ServerReport } from './run.js'
import type { ScenarioResult } from './scenarios.js'
import type { ClientRun } from './suites.js'

const CELL_WIDTH = 40

function clip(text: string, width = CELL_WIDTH): string {
  const flat = text.replace(/\s+/g, ' ').trim()
  return flat.length > width ? `${flat.slice(0, width - 1)}…` : flat
}

/**
 * A protocol error code says which check refused the message; servers that answer every failure
 * with the same body (the Go reference says "an error occured") are explained by their log line.
 */
export function caseCell(result: CaseResult | undefined): string {
  if (result === undefined) return '-'
  const down = result.alive ? '' : ' [server down]'
  if (result.status === 'error') return clip(`error: ${result.code}`) + down
  const http = result.httpStatus === undefined ? '' : `, HTTP ${result.httpStatus}`
  const reason =
    result.status === 'refused' && !/^BA\d{3}/.test(result.code) && result.serverLog !== undefined
      ? `log: ${result.serverLog.replace(/^error:\s*/i, '')}`
      : result.code + http
  return clip(`${result.status} (${reason})`) + down
}

/** `pass*`: passed, judged on behaviour; what the server sent instead of the code is a finding. */
export function scenarioCell(result: ScenarioResult | undefined): string {
  if (result === undefined) return '-'
  if (result.status === 'pass') return result.observed === undefined ? 'pass' : 'pass*'
  return clip(`${result.status} (${result.detail ?? ''})`)
}

/** One scenario of a reference client's own suite against one server. */
export function clientCell(run: ClientRun | undefined, scenario: string): string {
  if (run === undefined) return '-'
  if (run.unavailable !== undefined) return 'unavailable'
  if (run.problem !== undefined) return clip(`no results: ${run.problem}`)
  const test = run.tests.find((item) => item.scenario === scenario)
  if (test === undefined) return '-'
  return test.status === 'FAIL' ? clip(`FAIL (${test.detail ?? ''})`) : test.status
}

function statusCell(server: ServerReport): string {
  if (server.unavailable !== undefined) return clip(`unavailable: ${server.unavailable}`)
  const how = server.started ? 'started' : 'already running'
  return `${how}, ${(server.ms / 1000).toFixed(1)} s`
}

function verdictCell(server: ServerReport): string {
  switch (server.verdict) {
    case 'pass':
      return 'pass'
    case 'findings':
      return `findings (${server.findings.length})`
    case 'fail':
      return `FAIL (${server.failures.length})`
    case 'unavailable':
      return 'unavailable'
  }
}

function table(rows: readonly (readonly string[])[], ruleAfter: ReadonlySet<number>): string {
  const widths: number[] = []
  for (const row of rows) {
    row.forEach((cell, index) => (widths[index] = Math.max(widths[index] ?? 0, cell.length)))
  }
  const line = (row: readonly string[]) =>
    row
      .map((cell, index) => cell.padEnd(widths[index] ?? 0))
      .join(' | ')
      .trimEnd()
  const rule = widths.map((width) => '-'.repeat(width)).join('-+-')
  const out: string[] = []
  rows.forEach((row, index) => {
    out.push(line(row))
    if (ruleAfter.has(index)) out.push(rule)
  })
  return out.join('\n')
}

function indent(text: string, prefix: string): string {
  return text
    .split('\n')
    .map((line) => prefix + line)
    .join('\n')
}

/** The matrix (scenario and case rows × server columns), then what failed and what was found. */
export function renderMatrix(report: MatrixReport): string {
  const servers = report.servers
  const rows: string[][] = [
    ['', ...servers.map((server) => server.name)],
    ['expect', ...servers.map((server) => server.expect)],
    ['status', ...servers.map(statusCell)],
  ]
  const rules = new Set<number>([2])
  const unavailableCell = (server: ServerReport) =>
    server.unavailable === undefined ? undefined : 'unavailable'
  for (const scenario of report.scenarios) {
    rows.push([
      scenario.id,
      ...servers.map(
        (server) =>
          unavailableCell(server) ??
          scenarioCell(server.scenarios.find((result) => result.id === scenario.id)),
      ),
    ])
  }
  for (const client of report.clients) {
    for (const scenario of report.scenarios) {
      rows.push([
        `${client.name} ${scenario.id}`,
        ...servers.map(
          (server) =>
            unavailableCell(server) ??
            clientCell(
              server.clients.find((run) => run.client === client.name),
              scenario.id,
            ),
        ),
      ])
    }
  }
  rules.add(rows.length - 1)
  for (const testCase of report.cases) {
    rows.push([
      testCase.id,
      ...servers.map(
        (server) =>
          unavailableCell(server) ??
          caseCell(server.adversarial.find((result) => result.id === testCase.id)),
      ),
    ])
  }
  rules.add(rows.length - 1)
  rows.push(['verdict', ...servers.map(verdictCell)])

  const sections = [
    table(rows, rules),
    'Rows: scenario-N is our client; "<client> scenario-N" is that reference client\'s own test ' +
      'of the scenario;\nthen the hostile messages. pass* = passed on behaviour (any refusal ' +
      'counts); what was sent is a finding.',
  ]
  const unavailable = [
    ...servers.filter((server) => server.unavailable !== undefined),
    ...report.clients.filter((client) => client.unavailable !== undefined),
  ]
  if (unavailable.length > 0) {
    sections.push(
      'Unavailable:\n' +
        unavailable
          .map((item) => `  ${item.name}:\n${indent(item.unavailable ?? '', '    ')}`)
          .join('\n'),
    )
  }
  const failing = servers.filter((server) => server.failures.length > 0)
  if (failing.length > 0) {
    sections.push(
      'Failures (these fail the run):\n' +
        failing
          .map(
            (server) =>
              `  ${server.name} (${server.expect}):\n` +
              server.failures.map((line) => `    - ${line}`).join('\n'),
          )
          .join('\n'),
    )
  }
  const finding = servers.filter((server) => server.findings.length > 0)
  if (finding.length > 0) {
    const proves = new Map(report.cases.map((testCase) => [testCase.id, testCase.proves]))
    sections.push(
      'Findings (reported, not failures):\n' +
        finding
          .map(
            (server) =>
              `  ${server.name} (${server.expect}):\n` +
              server.findings
                .map((line) => {
                  const id = line.split(/[\s:]/, 1)[0] ?? ''
                  const result = server.adversarial.find((item) => item.id === id)
                  const why = proves.get(id)
                  return (
                    `    - ${line}` +
                    (why === undefined ? '' : `\n      expected refusal because: ${why}`) +
                    (result?.serverLog === undefined
                      ? ''
                      : `\n      server log: ${result.serverLog}`)
                  )
                })
                .join('\n'),
          )
          .join('\n'),
    )
  }
  if (report.builds.length > 0) {
    sections.push(
      'Reference builds:\n' +
        report.builds
          .map(
            (build) =>
              `  ${build.name}: ${build.repository}@${build.commit.slice(0, 12)}, ` +
              ('unavailable' in build ? 'FAILED' : `built in ${(build.ms / 1000).toFixed(0)} s`),
          )
          .join('\n'),
    )
  }
  sections.push(`Wall time: ${(report.ms / 1000).toFixed(0)} s`)
  const failures = servers.reduce((sum, server) => sum + server.failures.length, 0)
  sections.push(
    report.ok
      ? `Result: OK (${servers.length} server${servers.length === 1 ? '' : 's'})`
      : `Result: FAILED (${failures} failure${failures === 1 ? '' : 's'})`,
  )
  return sections.join('\n\n') + '\n'
}
