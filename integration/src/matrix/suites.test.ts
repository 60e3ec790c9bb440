import { describe, expect, it } from 'vitest'
import { parseJunit, parseLibtest, scenarioOf } from './suites.js'

describe('scenarioOf', () => {
  it.each([
    ['integration > completes auth flows', 'scenario-1'],
    ['test_recovers_from_loss', 'scenario-2'],
    ['linksAnotherDevice', 'scenario-3'],
    ['linksAnotherDevice()', 'scenario-3'],
    ['tests::test_detects_mismatched_access_nonce', 'scenario-4'],
    ['com.betterauth.IntegrationTest.detectsMismatchedAccessNonce', 'scenario-4'],
    ['some other test', undefined],
  ])('maps %j to %j', (name, scenario) => {
    expect(scenarioOf(name)).toBe(scenario)
  })
})

describe('parseJunit', () => {
  it('reads passed, failed, errored and skipped test cases of vitest, pytest and Surefire', () => {
    const xml = `<?xml version="1.0" encoding="UTF-8"?>
<testsuites><testsuite name="x" tests="4">
  <testcase classname="src/tests/integration.test.ts" name="integration &gt; completes auth flows" time="1.1">
  </testcase>
  <testcase classname="tests.integration" name="test_recovers_from_loss" time="0.2"><failure message="KeyError: &apos;payload&apos;&#10;more">traceback</failure></testcase>
  <testcase name="linksAnotherDevice" classname="com.betterauth.IntegrationTest" time="5.8"><error type="java.net.ConnectException">Connection refused
at x</error></testcase>
  <testcase name="detectsMismatchedAccessNonce" classname="c" time="0"><skipped/></testcase>
  <testcase name="extra" classname="c" time="0"/>
</testsuite></testsuites>`
    expect(parseJunit(xml)).toEqual([
      { name: 'integration > completes auth flows', scenario: 'scenario-1', status: 'pass' },
      {
        name: 'test_recovers_from_loss',
        scenario: 'scenario-2',
        status: 'FAIL',
        detail: "KeyError: 'payload'",
      },
      {
        name: 'linksAnotherDevice',
        scenario: 'scenario-3',
        status: 'FAIL',
        detail: 'Connection refused',
      },
      { name: 'detectsMismatchedAccessNonce', scenario: 'scenario-4', status: 'skipped' },
      { name: 'extra', status: 'pass' },
    ])
  })

  it('finds nothing in a file that is not a report', () => {
    expect(parseJunit('')).toEqual([])
    expect(parseJunit('<testsuite/>')).toEqual([])
  })
})

describe('parseLibtest', () => {
  it('reads the result lines and the panic message of each failure', () => {
    const output = `
running 4 tests
test test_recovers_from_loss ... ok
test test_links_another_device ... FAILED
test test_completes_auth_flows ... ok
test test_detects_mismatched_access_nonce ... ignored

failures:

---- test_links_another_device stdout ----

thread 'test_links_another_device' panicked at tests/integration_test.rs:540:10:
called \`Result::unwrap()\` on an \`Err\` value: "expired"
note: run with \`RUST_BACKTRACE=1\`

failures:
    test_links_another_device

test result: FAILED. 2 passed; 1 failed; 1 ignored; 0 measured; 0 filtered out
`
    expect(parseLibtest(output)).toEqual([
      { name: 'test_recovers_from_loss', scenario: 'scenario-2', status: 'pass' },
      {
        name: 'test_links_another_device',
        scenario: 'scenario-3',
        status: 'FAIL',
        detail: 'called `Result::unwrap()` on an `Err` value: "expired"',
      },
      { name: 'test_completes_auth_flows', scenario: 'scenario-1', status: 'pass' },
      { name: 'test_detects_mismatched_access_nonce', scenario: 'scenario-4', status: 'skipped' },
    ])
  })

  it('finds nothing in a build failure', () => {
    expect(parseLibtest('error[E0433]: failed to resolve\nerror: could not compile')).toEqual([])
  })
})
