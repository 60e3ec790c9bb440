import { describe, expect, it } from 'vitest'
import type { CaseResult } from '../adversarial/run.js'
import { assess } from './run.js'
import type { ScenarioResult } from './scenarios.js'

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
    expect(assess('conformant', { scenarios: [pass], adversarial: [refused] })).toEqual({
      verdict: 'pass',
      failures: [],
      findings: [],
    })
  })

  it('fails a conformant server on an accepted case, a crash or a case it could not run', () => {
    const outcome = assess('conformant', {
      scenarios: [pass],
      adversarial: [
        accepted,
        { ...refused, alive: false },
        { ...refused, id: 'x', status: 'error', code: 'set-up refused' },
      ],
    })
    expect(outcome.verdict).toBe('fail')
    expect(outcome.failures).toEqual([
      'challenge-reuse ACCEPTED (x)',
      'replayed-rotation: server stopped answering afterwards',
      'x not judged: set-up refused',
    ])
  })

  it('reports accepted cases of a reference server as findings, but fails its scenarios', () => {
    expect(assess('reference', { scenarios: [pass], adversarial: [accepted] })).toEqual({
      verdict: 'findings',
      failures: [],
      findings: ['challenge-reuse ACCEPTED (x)'],
    })
    expect(assess('reference', { scenarios: [fail], adversarial: [] })).toMatchObject({
      verdict: 'fail',
      failures: ['scenario-3 failed: nope'],
    })
  })

  it('fails an unavailable conformant server but only reports an unavailable reference', () => {
    const results = { unavailable: 'go: 403 Forbidden\nmore', scenarios: [], adversarial: [] }
    expect(assess('conformant', results)).toMatchObject({
      verdict: 'fail',
      failures: ['unavailable: go: 403 Forbidden'],
    })
    expect(assess('reference', results)).toEqual({
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
    const known = { 'scenario-3': 'refresh never checks the device' }
    const outcome = assess('reference', { scenarios: [fail], adversarial: [] }, known)
    expect(outcome.failures).toEqual([])
    expect(outcome.verdict).toBe('findings')
    expect(outcome.findings[0]).toContain('known server bug: refresh never checks the device')
  })

  it('says when a known failure passes again', () => {
    const outcome = assess(
      'reference',
      { scenarios: [pass], adversarial: [] },
      { 'scenario-3': 'x' },
    )
    expect(outcome.findings).toEqual(['scenario-3 passes now: remove it from knownFailures'])
  })

  it('still fails on an undiagnosed scenario failure', () => {
    const outcome = assess('reference', { scenarios: [fail], adversarial: [] }, {})
    expect(outcome.verdict).toBe('fail')
  })
})
