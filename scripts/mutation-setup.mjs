// Vitest setup file of mutation runs only (vitest.shared.ts adds it when BETTER_AUTH_MUTATION=1,
// which stryker.config.mjs sets). Under Stryker every test runs instrumented and once per mutant
// it covers, so each property test stops after a time budget instead of running all its cases
// (a mutant that breaks a parser fails within the first cases anyway), and a slow test that
// passes is not failed by the ordinary timeout: Stryker refuses to start after a failed dry run.
import fc from 'fast-check'
import { vi } from 'vitest'

fc.configureGlobal({ interruptAfterTimeLimit: 2_000, markInterruptAsFailure: false })
// Instrumented code on a shared machine: the dry run must not fail on a slow, passing test.
vi.setConfig({ testTimeout: 60_000 })
