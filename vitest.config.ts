import { defineConfig } from 'vitest/config'

// One run over every workspace: each package's vitest.config.ts is a project, so `pnpm test`
// prints one summary that .ci/run can count.
export default defineConfig({
  test: {
    projects: [
      'packages/*',
      // The client's IndexedDB stores, in Chromium.
      'packages/client/vitest.browser.config.ts',
      'integration',
      'integration/runtimes',
      'spec',
      'examples/*',
    ],
    // Off unless asked (`--coverage`): scripts/test.sh turns it on when COVERAGE=1, and
    // scripts/coverage-floors.mjs holds each package to its floor.
    coverage: {
      provider: 'v8',
      include: ['packages/*/src/**/*.ts'],
      exclude: [
        // Tests and test helpers are not the product.
        '**/*.test.ts',
        '**/testing-internal/**',
      ],
      // json (per line and branch) lets scripts/coverage-floors.mjs name what a breach left uncovered.
      reporter: ['text-summary', 'json-summary', 'json'],
      // A failing test fails the run anyway; the floors are still worth reading.
      reportOnFailure: true,
      reportsDirectory: 'test-artifacts/coverage',
    },
  },
})
