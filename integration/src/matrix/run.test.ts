import { describe, expect, it } from 'vitest'
import type { CaseResult } from '../adversarial/run.js'
import { assess } from './run.js'
import type { ScenarioResult } from './scenarios.js'
import type { ClientRun } from './suites.js'

const pass: ScenarioResult = { id: 'scenario-1', title: 't', status: 'pass', ms: 1 }
const fail: ScenarioResult = { ...pass, id: 'scenario-3', status: 'FAIL', detail: 'nope' }
const refused: CaseResult = {
  id: 'replayed-rotation',
  title: 't',
  proves: 'p',
  status: 'refused',
  code: 'BA104',
  alive: true,
  ms: 1,
}
const accepted: CaseResult = { ...refused, id: 'challenge-reuse', status: 'ACCEPTED', code: 'x' }

describe('assess', () => {
  it('passes a server that passes every scenario and refuses every case', () => {
    expect(assess({ expect: 'conformant' }, { scenarios: [pass], adversarial: [refused] })).toEqual(
      {
        verdict: 'pass',
        failures: [],
        findings: [],
      },
    )
  })

  it('fails a conformant server on an accepted case, a crash or a case it could not run', () => {
    const outcome = assess(
      { expect: 'conformant' },
      {
        scenarios: [pass],
        adversarial: [
          accepted,
          { ...refused, alive: false },
          { ...refused, id: 'x', status: 'error', code: 'set-up refused' },
        ],
      },
    )
    expect(outcome.verdict).toBe('fail')
    expect(outcome.failures).toEqual([
      'challenge-reuse ACCEPTED (x)',
      'replayed-rotation: server stopped answering afterwards',
      'x not judged: set-up refused',
    ])
  })

  it('reports accepted cases of a reference server as findings, but fails its scenarios', () => {
    expect(assess({ expect: 'reference' }, { scenarios: [pass], adversarial: [accepted] })).toEqual(
      {
        verdict: 'findings',
        failures: [],
        findings: ['challenge-reuse ACCEPTED (x): undiagnosed'],
      },
    )
    expect(assess({ expect: 'reference' }, { scenarios: [fail], adversarial: [] })).toMatchObject({
      verdict: 'fail',
      failures: ['scenario-3 failed: nope'],
    })
  })

  it('fails an unavailable conformant server but only reports an unavailable reference', () => {
    const results = { unavailable: 'go: 403 Forbidden\nmore', scenarios: [], adversarial: [] }
    expect(assess({ expect: 'conformant' }, results)).toMatchObject({
      verdict: 'fail',
      failures: ['unavailable: go: 403 Forbidden'],
    })
    expect(assess({ expect: 'reference' }, results)).toEqual({
      verdict: 'unavailable',
      failures: [],
      findings: [],
    })
  })
})

describe('known failures of a reference server', () => {
  const fail = {
    id: 'scenario-3',
    title: 't',
    status: 'FAIL',
    detail: 'refresh succeeded',
    ms: 1,
  } as const
  const pass = { id: 'scenario-3', title: 't', status: 'pass', ms: 1 } as const

  it('reports a diagnosed failure as a finding, not a failure', () => {
    const knownFailures = { 'scenario-3': 'refresh never checks the device' }
    const outcome = assess(
      { expect: 'reference', knownFailures },
      { scenarios: [fail], adversarial: [] },
    )
    expect(outcome.failures).toEqual([])
    expect(outcome.verdict).toBe('findings')
    expect(outcome.findings[0]).toContain('known server bug: refresh never checks the device')
  })

  it('says when a known failure passes again', () => {
    const outcome = assess(
      { expect: 'reference', knownFailures: { 'scenario-3': 'x' } },
      { scenarios: [pass], adversarial: [] },
    )
    expect(outcome.findings).toEqual(['scenario-3 passes now: remove it from knownFailures'])
  })

  it('still fails on an undiagnosed scenario failure', () => {
    const outcome = assess({ expect: 'reference' }, { scenarios: [fail], adversarial: [] })
    expect(outcome.verdict).toBe('fail')
  })
})

describe('judging on behaviour', () => {
  const observed: ScenarioResult = {
    ...pass,
    id: 'scenario-3',
    observed: [
      'refresh: refused with no error code ("an error occured"), HTTP 200; BA103 expected',
    ],
  }
  const malformed: ScenarioResult = {
    ...pass,
    id: 'scenario-4',
    status: 'finding',
    detail: '/bad/nonce answers the malformed nonce "0A0123456789"',
  }

  it('lists what a foreign server sent instead of the code, and a malformed fixture, as findings', () => {
    expect(
      assess({ expect: 'reference' }, { scenarios: [observed, malformed], adversarial: [] }),
    ).toEqual({
      verdict: 'findings',
      failures: [],
      findings: [
        'scenario-3: refresh: refused with no error code ("an error occured"), HTTP 200; BA103 expected',
        'scenario-4: /bad/nonce answers the malformed nonce "0A0123456789"',
      ],
    })
  })

  it('holds our own server to exact codes: an unjudgeable scenario fails it', () => {
    expect(
      assess({ expect: 'conformant' }, { scenarios: [malformed], adversarial: [] }),
    ).toMatchObject({
      verdict: 'fail',
      failures: ['scenario-4: /bad/nonce answers the malformed nonce "0A0123456789"'],
    })
  })

  it('prints the one-line diagnosis of an accepted hostile message', () => {
    const outcome = assess(
      {
        expect: 'reference',
        diagnoses: { 'challenge-reuse': 'its challenge store never consumes' },
      },
      { scenarios: [], adversarial: [accepted] },
    )
    expect(outcome.findings).toEqual([
      'challenge-reuse ACCEPTED (x): its challenge store never consumes',
    ])
  })
})

describe("reference clients' suites", () => {
  const run = (tests: ClientRun['tests'], extra: Partial<ClientRun> = {}): ClientRun => ({
    client: 'kotlin',
    tests,
    ms: 1,
    ...extra,
  })
  const ok = { name: 'completesAuthFlows()', scenario: 'scenario-1', status: 'pass' } as const
  const bad = {
    name: 'linksAnotherDevice()',
    scenario: 'scenario-3',
    status: 'FAIL',
    detail: 'boom',
  } as const

  it('fail the server on an undiagnosed failing test, even a conformant one', () => {
    const outcome = assess(
      { expect: 'conformant' },
      { scenarios: [], adversarial: [], clients: [run([ok, bad])] },
    )
    expect(outcome).toMatchObject({
      verdict: 'fail',
      failures: ['kotlin client scenario-3 failed: boom'],
    })
  })

  it("report a failure diagnosed as the server's or the client's bug as a finding", () => {
    const clients = [run([ok, bad])]
    expect(
      assess(
        { expect: 'reference', knownFailures: { 'scenario-3': 'refreshes revoked devices' } },
        { scenarios: [], adversarial: [], clients },
      ).findings,
    ).toEqual([
      'kotlin client scenario-3 failed: boom (known server bug: refreshes revoked devices)',
    ])
    expect(
      assess(
        { expect: 'conformant' },
        { scenarios: [], adversarial: [], clients },
        {
          kotlin: { 'scenario-3': 'its test reads the wrong field' },
        },
      ),
    ).toMatchObject({
      verdict: 'findings',
      findings: [
        'kotlin client scenario-3 failed: boom (known client bug: its test reads the wrong field)',
      ],
    })
  })

  it('fail on a suite that gave no results, and skip an unavailable client', () => {
    const outcome = assess(
      { expect: 'reference' },
      {
        scenarios: [],
        adversarial: [],
        clients: [
          run([], { problem: '`mvn` did not finish in 5 ms:\nlast words' }),
          run([], { client: 'dart', unavailable: 'no toolchain' }),
        ],
      },
    )
    expect(outcome).toEqual({
      verdict: 'fail',
      failures: ['kotlin client: `mvn` did not finish in 5 ms'],
      findings: [],
    })
  })
})
