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

const bun = packagedBinary('@oven/bun-linux-x64', 'bin/bun')

describe.runIf(runsHere(bun))('Bun (binary from @oven/bun-linux-x64)', () => {
  const keys = serverKeys()
  let url = ''
  let runtime: RuntimeProcess | undefined
  let cleanup: (() => Promise<void>) | undefined

  beforeAll(async () => {
    if (bun === undefined) throw new Error('@oven/bun-linux-x64 is not installed')
    const work = await scratch()
    cleanup = work.cleanup
    const entry = join(work.dir, 'bun.js')
    await bundle('bun', entry)
    const started = await start(bun, ['run', entry], {
      cwd: work.dir,
      env: {
        RESPONSE_KEY_PEM: keys.response.toPkcs8Pem(),
        ACCESS_PUBLIC_KEY: await keys.access.public(),
        BUN_RUNTIME_TRANSPILER_CACHE_PATH: '0',
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

  describeAccessChecks(() => url, keys, /^bun \d/)
})
