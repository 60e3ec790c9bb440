import { join } from 'node:path'
import { afterAll, beforeAll, describe } from 'vitest'
import { describeAccessChecks } from './access-suite.js'
import { bundle, packagedBinary, runsHere, scratch, serverKeys, start } from './harness.js'
import type { RuntimeProcess } from './harness.js'

export interface ProcessRuntime {
  /** Shown in the suite's title, and the name of the app's entry in src/ (`src/<entry>.ts`). */
  readonly title: string
  readonly entry: string
  /** The npm platform package that ships the binary, and the binary's path inside it. */
  readonly pkg: string
  readonly binary: string
  readonly args: (entry: string) => readonly string[]
  /** The runtime's own variables (caches, update checks), beside the app's keys. */
  readonly env: (dir: string) => Record<string, string>
  /** What the app reports as its runtime, e.g. /^bun \d/. */
  readonly instance: RegExp
}

/** A runtime started as a process (Bun, Deno): bundle the app, start it, run the access checks. */
export function describeProcessRuntime(runtime: ProcessRuntime): void {
  const binary = packagedBinary(runtime.pkg, runtime.binary)
  describe.runIf(runsHere(binary))(`${runtime.title} (binary from ${runtime.pkg})`, () => {
    const keys = serverKeys()
    let url = ''
    let running: RuntimeProcess | undefined
    let cleanup: (() => Promise<void>) | undefined

    beforeAll(async () => {
      if (binary === undefined) throw new Error(`${runtime.pkg} is not installed`)
      const work = await scratch()
      cleanup = work.cleanup
      const entry = join(work.dir, `${runtime.entry}.js`)
      await bundle(runtime.entry, entry)
      const started = await start(binary, [...runtime.args(entry)], {
        cwd: work.dir,
        env: {
          RESPONSE_KEY_PEM: keys.response.toPkcs8Pem(),
          ACCESS_PUBLIC_KEY: await keys.access.public(),
          ...runtime.env(work.dir),
        },
        ready: /listening on (\d+)/,
      })
      running = started.process
      url = `http://127.0.0.1:${started.match?.[1]}`
    })

    afterAll(async () => {
      await running?.stop()
      await cleanup?.()
    })

    describeAccessChecks(() => url, keys, runtime.instance)
  })
}
