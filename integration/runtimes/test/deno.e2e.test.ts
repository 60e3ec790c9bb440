import { join } from 'node:path'
import { afterAll, beforeAll, describe } from 'vitest'
import { describeAccessChecks } from './access-suite.js'
import {
  bundle,
  packagedBinary,
  runsHere,
  scratch,
  serverKeys,
  start,
  type RuntimeProcess,
} from './harness.js'

const deno = packagedBinary('@deno/linux-x64-glibc', 'deno')

describe.runIf(runsHere(deno))('Deno (binary from @deno/linux-x64-glibc)', () => {
  const keys = serverKeys()
  let url = ''
  let runtime: RuntimeProcess | undefined
  let cleanup: (() => Promise<void>) | undefined

  beforeAll(async () => {
    if (deno === undefined) throw new Error('@deno/linux-x64-glibc is not installed')
    const work = await scratch()
    cleanup = work.cleanup
    const entry = join(work.dir, 'deno.js')
    await bundle('deno', entry)
    // Only the two variables and binding 127.0.0.1 are allowed: the bundle needs nothing else.
    const args = [
      'run',
      '--no-config',
      '--no-prompt',
      '--allow-net=127.0.0.1',
      '--allow-env=RESPONSE_KEY_PEM,ACCESS_PUBLIC_KEY',
      entry,
    ]
    const started = await start(deno, args, {
      cwd: work.dir,
      env: {
        RESPONSE_KEY_PEM: keys.response.toPkcs8Pem(),
        ACCESS_PUBLIC_KEY: await keys.access.public(),
        DENO_DIR: join(work.dir, 'deno-dir'),
        DENO_NO_UPDATE_CHECK: '1',
      },
      ready: /listening on (\d+)/,
    })
    runtime = started.process
    url = `http://127.0.0.1:${started.match?.[1]}`
  })

  afterAll(async () => {
    await runtime?.stop()
    await cleanup?.()
  })

  describeAccessChecks(() => url, keys, /^deno \d/)
})
