import { describe, expect, it } from 'vitest'
import type { CaseResult } from '../adversarial/run.js'
import { renderMarkdown } from './markdown.js'
import { caseCell, renderMatrix, scenarioCell } from './render.js'
import type { MatrixReport, ServerReport } from './run.js'

const refused: CaseResult = {
  id: 'challenge-reuse',
  title: 'challenge reuse',
  proves: 'challenges are single use',
  status: 'refused',
  code: 'BA204',
  httpStatus: 401,
  alive: true,
  ms: 3,
}

const ours: ServerReport = {
  name: 'ours',
  expect: 'conformant',
  url: 'http://127.0.0.1:18080',
  started: true,
  scenarios: [{ id: 'scenario-1', title: 's1', status: 'pass', ms: 5 }],
  adversarial: [refused],
  clients: [],
  verdict: 'pass',
  failures: [],
  findings: [],
  ms: 1234,
}

const foreign: ServerReport = {
  ...ours,
  name: 'foreign',
  expect: 'reference',
  scenarios: [{ id: 'scenario-1', title: 's1', status: 'FAIL', detail: 'BA101 bad', ms: 5 }],
  adversarial: [
    {
      ...refused,
      status: 'ACCEPTED',
      code: 'signed payload',
      httpStatus: 200,
      serverLog: 'nothing to see',
    },
  ],
  verdict: 'fail',
  failures: ['scenario-1 failed: BA101 bad'],
  findings: ['challenge-reuse ACCEPTED (signed payload, HTTP 200)'],
}

const missing: ServerReport = {
  ...ours,
  name: 'go',
  expect: 'reference',
  unavailable: 'go: reading https://proxy.golang.org/…: 403 Forbidden\n\tserver response: no',
  scenarios: [],
  adversarial: [],
  verdict: 'unavailable',
}

const report: MatrixReport = {
  generatedAt: '2025-10-10T07:00:00.000Z',
  scenarios: [{ id: 'scenario-1', title: 's1' }],
  cases: [{ id: 'challenge-reuse', title: 'challenge reuse', proves: 'challenges are single use' }],
  builds: [],
  clients: [],
  servers: [ours, foreign, missing],
  ok: false,
  ms: 61_000,
}

describe('renderMatrix', () => {
  const text = renderMatrix(report)
  const lines = text.split('\n')

  it('has one column per server and one row per scenario and case', () => {
    expect(lines[0]).toMatch(/^\s+\| ours\s+\| foreign\s+\| go$/)
    const row = (id: string) => lines.find((line) => line.startsWith(`${id} `))
    expect(row('scenario-1')).toMatch(/\| pass\s+\| FAIL \(BA101 bad\)\s+\| unavailable$/)
    expect(row('challenge-reuse')).toMatch(
      /\| refused \(BA204, HTTP 401\) \| ACCEPTED \(signed payload, HTTP 200\) \| unavailable$/,
    )
    expect(row('verdict')).toMatch(/\| pass\s+\| FAIL \(1\)\s+\| unavailable$/)
  })

  it('aligns every table row', () => {
    const table = lines.slice(0, lines.indexOf(''))
    const bars = table
      .filter((line) => !line.startsWith('-'))
      .map((line) => [...line.matchAll(/ \| /g)].map((match) => match.index))
    for (const positions of bars) expect(positions).toEqual(bars[0])
  })

  it("fills an unavailable server's column and prints the command's whole error below", () => {
    expect(lines.find((line) => line.startsWith('status'))).toContain('unavailable: go: reading')
    expect(text).toContain(
      'Unavailable:\n  go:\n    go: reading https://proxy.golang.org/…: 403 Forbidden\n    \tserver response: no',
    )
  })

  it('separates failures from findings and explains each finding', () => {
    expect(text).toContain(
      'Failures (these fail the run):\n  foreign (reference):\n    - scenario-1 failed',
    )
    expect(text).toContain(
      'Findings (reported, not failures):\n  foreign (reference):\n' +
        '    - challenge-reuse ACCEPTED (signed payload, HTTP 200)\n' +
        '      expected refusal because: challenges are single use\n' +
        '      server log: nothing to see',
    )
    expect(text.trimEnd().split('\n').at(-1)).toBe('Result: FAILED (1 failure)')
    expect(text).toContain('Wall time: 61 s')
  })

  it('says OK when every server met its expectation', () => {
    const ok = renderMatrix({ ...report, servers: [ours], ok: true })
    expect(ok).not.toContain('Failures')
    expect(ok.trimEnd().split('\n').at(-1)).toBe('Result: OK (1 server)')
  })
})

describe('reference clients', () => {
  const withClients: MatrixReport = {
    ...report,
    clients: [{ name: 'kotlin' }, { name: 'dart', unavailable: 'no Dart toolchain' }],
    servers: [
      {
        ...ours,
        clients: [
          {
            client: 'kotlin',
            tests: [{ name: 'completesAuthFlows()', scenario: 'scenario-1', status: 'pass' }],
            ms: 1,
          },
          { client: 'dart', unavailable: 'no Dart toolchain', tests: [], ms: 0 },
        ],
      },
      { ...foreign, clients: [{ client: 'kotlin', problem: 'mvn failed', tests: [], ms: 1 }] },
      missing,
    ],
  }
  const text = renderMatrix(withClients)
  const row = (label: string) => text.split('\n').find((line) => line.startsWith(`${label} `))

  it('get a row per scenario with a cell per server, and unavailable ones are listed', () => {
    expect(row('kotlin scenario-1')).toMatch(
      /\| pass\s+\| no results: mvn failed\s+\| unavailable$/,
    )
    expect(row('dart scenario-1')).toMatch(/\| unavailable\s+\| -\s+\| unavailable$/)
    expect(text).toContain('Unavailable:\n  go:')
    expect(text).toContain('  dart:\n    no Dart toolchain')
  })

  it('are in the markdown too, with the reference commits', () => {
    const markdown = renderMarkdown({
      ...withClients,
      builds: [{ name: 'kt', repository: 'o/kt', commit: 'c'.repeat(40), src: '/x', ms: 1 }],
    })
    expect(markdown).toContain(`| kt | o/kt | ${'c'.repeat(40)} | built |`)
    expect(markdown).toContain(
      '| kotlin scenario-1 | pass | no results: mvn failed | unavailable |',
    )
    expect(markdown).toContain('- **dart**: no Dart toolchain')
    expect(markdown).toContain('### foreign (reference): fail')
    expect(markdown).toContain('- **failure**: scenario-1 failed: BA101 bad')
  })
})

describe('cells', () => {
  it('explain code-less refusals with the server log line and flag a dead server', () => {
    expect(
      caseCell({ ...refused, code: '"an error occured"', serverLog: 'error: hash mismatch' }),
    ).toBe('refused (log: hash mismatch)')
    expect(caseCell({ ...refused, alive: false })).toBe('refused (BA204, HTTP 401) [server down]')
    expect(caseCell({ ...refused, status: 'error', code: 'set-up request refused' })).toBe(
      'error: set-up request refused',
    )
    expect(caseCell(undefined)).toBe('-')
  })

  it('clip long scenario failures to the column width', () => {
    const cell = scenarioCell({
      id: 's',
      title: 't',
      status: 'FAIL',
      detail: 'x'.repeat(100),
      ms: 1,
    })
    expect(cell).toHaveLength(40)
    expect(cell.endsWith('…')).toBe(true)
  })
})
