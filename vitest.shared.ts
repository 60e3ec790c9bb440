import { defineProject, type UserWorkspaceConfig } from 'vitest/config'

// Workspace packages resolve to their TypeScript sources through the `dev-source` export
// condition, so tests never need a build step.
export function project(overrides: UserWorkspaceConfig['test'] = {}): UserWorkspaceConfig {
  return defineProject({
    resolve: { conditions: ['dev-source', 'module', 'node', 'import', 'default'] },
    ssr: { resolve: { conditions: ['dev-source', 'node', 'import', 'default'] } },
    test: {
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      testTimeout: 20_000,
      ...overrides,
    },
  })
}
