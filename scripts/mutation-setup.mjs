// Vitest setup file of mutation runs only (vitest.shared.ts adds it when BETTER_AUTH_MUTATION=1,
// which stryker.config.mjs sets). Under Stryker every test runs instrumented and once per mutant
// it covers, so each property test stops after a time budget instead of running all its cases
// into the test timeout; a mutant that breaks a parser fails within the first cases anyway.
import fc from 'fast-check'

fc.configureGlobal({ interruptAfterTimeLimit: 2_000, markInterruptAsFailure: false })
