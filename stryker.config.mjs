// Mutation testing (`make mutation`): Stryker runs in one package's directory against that
// package's own vitest tests, mutating the security-relevant sources listed below in place (a
// sandbox copy would lose the workspace links pnpm keeps in each package's node_modules).
// Incremental: results of unchanged code and tests are reused from the checked-in
// stryker-incremental.json of the package, so a run after a small change mutates only that change,
// while the score still covers every mutant. The floors are in mutation-floors.json.
import { readFileSync } from 'node:fs'
import { basename } from 'node:path'

const tests = ['!src/**/*.test.ts', '!src/**/testing-internal/**']
/** What each package mutates: the protocol's trust boundary, not its plumbing. */
const scopes = {
  cesr: ['src/**/*.ts'],
  // Message, token and key parsing and checks. Still to add (one full run each): json/, key-chain/.
  protocol: [
    'src/messages/*.ts',
    'src/token.ts',
    'src/schema.ts',
    'src/constant-time.ts',
    'src/verification-key.ts',
  ],
  // The protocol methods and the access verifier.
  server: ['src/server.ts', 'src/access-verifier.ts'],
  // Verification: identity rule, token decoding (and the CRC-32 it checks), timestamps, signature
  // and public key checks, and the two verifiers. noble.ts and webcrypto.ts also hold key
  // generation, signing and key formats: a `// Stryker disable all` comment there ends the scope
  // (its mutants count as ignored), so it moves with the code, unlike a line range.
  crypto: [
    'src/identity-verifier.ts',
    'src/token-encoder.ts',
    'src/timestamper.ts',
    'src/internal/crc32.ts',
    'src/p256/raw.ts',
    'src/p256/curve.ts',
    'src/p256/noble.ts',
    'src/p256/webcrypto.ts',
  ],
}

// Inherited by the test runner processes: vitest.shared.ts then gives property tests a time budget.
process.env.BETTER_AUTH_MUTATION = '1'

const name = basename(process.cwd())
const mutate = scopes[name]
if (mutate === undefined) throw new Error(`stryker: no mutation scope for ${name}`)
const floors = JSON.parse(
  readFileSync(new URL('./mutation-floors.json', import.meta.url), 'utf8'),
).floors

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  plugins: ['@stryker-mutator/vitest-runner'],
  vitest: { configFile: 'vitest.config.ts' },
  mutate: [...mutate, ...tests],
  inPlace: true,
  coverageAnalysis: 'perTest',
  // A static mutant (a module-level table) reruns every test of the package: too slow for 2 cores.
  ignoreStatic: true,
  incremental: true,
  incrementalFile: 'stryker-incremental.json',
  reporters: ['clear-text', 'progress', 'json'],
  jsonReporter: { fileName: 'test-artifacts/mutation.json' },
  clearTextReporter: { allowColor: false, logTests: false, reportMutants: true },
  tempDirName: 'test-artifacts/stryker-tmp',
  concurrency: Number(process.env.STRYKER_CONCURRENCY ?? 2),
  // Added to 3× a mutant's expected test time before it counts as a timeout (detected: an endless
  // loop). 20 s made the endless loops of cesr's decoders cost most of a run on the shared machine.
  timeoutMS: 5_000,
  timeoutFactor: 3,
  thresholds: { high: 95, low: 80, break: floors[name] ?? null },
}
