import { join } from 'node:path'
import { describeProcessRuntime } from './process-runtime.js'

describeProcessRuntime({
  title: 'Deno',
  entry: 'deno',
  pkg: '@deno/linux-x64-glibc',
  binary: 'deno',
  // Only the two variables and binding 127.0.0.1 are allowed: the bundle needs nothing else.
  args: (entry) => [
    'run',
    '--no-config',
    '--no-prompt',
    '--allow-net=127.0.0.1',
    '--allow-env=RESPONSE_KEY_PEM,ACCESS_PUBLIC_KEY',
    entry,
  ],
  env: (dir) => ({ DENO_DIR: join(dir, 'deno-dir'), DENO_NO_UPDATE_CHECK: '1' }),
  instance: /^deno \d/,
})
