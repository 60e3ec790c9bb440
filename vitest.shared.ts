import { fileURLToPath } from 'node:url'
import { defineProject, type UserWorkspaceConfig } from 'vitest/config'

// Workspace packages resolve to their TypeScript sources through the `dev-source` export
// condition, so tests never need a build step.
export function project(overrides: UserWorkspaceConfig['test'] = {}): UserWorkspaceConfig {
  return defineProject({
    resolve: { conditions: ['dev-source', 'module', 'node', 'import', 'default'] },
    // Vitest hands SSR conditions to Node as --conditions: 'import' there would make CommonJS
    // require() (pg's internals) pick ESM entries, so only add what Node lacks.
    ssr: { resolve: { conditions: ['dev-source', 'node', 'default'] } },
    test: {
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      testTimeout: 20_000,
      // Mutation runs only (stryker.config.mjs): property tests get a time budget.
      setupFiles:
        process.env.BETTER_AUTH_MUTATION === '1'
          ? [fileURLToPath(new URL('./scripts/mutation-setup.mjs', import.meta.url))]
          : [],
      ...overrides,
    },
  })
}
