import { describeProcessRuntime } from './process-runtime.js'

describeProcessRuntime({
  title: 'Bun',
  entry: 'bun',
  pkg: '@oven/bun-linux-x64',
  binary: 'bin/bun',
  args: (entry) => ['run', entry],
  env: () => ({ BUN_RUNTIME_TRANSPILER_CACHE_PATH: '0' }),
  instance: /^bun \d/,
})
