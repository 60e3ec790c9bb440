import { defineConfig } from 'vitest/config'

// One run over every workspace: each package's vitest.config.ts is a project, so `pnpm test`
// prints one summary that .ci/run can count.
export default defineConfig({
  test: {
    projects: ['packages/*', 'integration', 'integration/runtimes', 'spec', 'examples/*'],
  },
})
