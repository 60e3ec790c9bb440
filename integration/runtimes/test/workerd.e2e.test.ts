import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { ServerAuthenticationNonceStore, ServerTimeLockStore } from '@better-auth/protocol'
import { describeStoreContract } from '@better-auth/server/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { describeAccessChecks } from './access-suite.js'
import {
  bundle,
  codeOf,
  freePort,
  packagedBinary,
  post,
  runsHere,
  scratch,
  serverKeys,
  session,
  start,
  waitForHttp,
  type Keys,
  type RuntimeProcess,
} from './harness.js'

const workerd = packagedBinary('@cloudflare/workerd-linux-64', 'bin/workerd')
const COMPATIBILITY_DATE = '2025-09-01'

/** A Cap'n Proto text literal (JSON string escapes are valid there). */
const text = (value: string) => JSON.stringify(value)

/**
 * Two Workers serving the access app (`verifier-a`, `verifier-b`: separate isolates, as two
 * Cloudflare colos or instances would be), a third exposing the stores for the contract suite,
 * and the Durable Object namespace all three share, defined by the `nonces` service.
 */
function config(keys: { pem: string; access: string }, ports: Record<string, number>): string {
  const verifier = (instance: string) => `(
    modules = [(name = "worker.js", esModule = embed "worker.js")],
    compatibilityDate = "${COMPATIBILITY_DATE}",
    bindings = [
      (name = "RESPONSE_KEY_PEM", text = ${text(keys.pem)}),
      (name = "ACCESS_PUBLIC_KEY", text = ${text(keys.access)}),
      (name = "INSTANCE", text = ${text(instance)}),
      (name = "NONCES", durableObjectNamespace = (className = "BetterAuthNonceObject", serviceName = "nonces")),
    ],
  )`
  return `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "nonces", worker = (
      modules = [(name = "worker.js", esModule = embed "worker.js")],
      compatibilityDate = "${COMPATIBILITY_DATE}",
      durableObjectNamespaces = [(className = "BetterAuthNonceObject", uniqueKey = "better-auth-nonces")],
      durableObjectStorage = (inMemory = void),
      bindings = [
        (name = "RESPONSE_KEY_PEM", text = ""),
        (name = "ACCESS_PUBLIC_KEY", text = ""),
        (name = "INSTANCE", text = "nonces"),
      ],
    )),
    (name = "verifier-a", worker = ${verifier('workerd a')}),
    (name = "verifier-b", worker = ${verifier('workerd b')}),
    (name = "contract", worker = (
      modules = [(name = "contract.js", esModule = embed "contract.js")],
      compatibilityDate = "${COMPATIBILITY_DATE}",
      bindings = [
        (name = "NONCES", durableObjectNamespace = (className = "BetterAuthNonceObject", serviceName = "nonces")),
      ],
    )),
  ],
  sockets = [
    (name = "a", address = "127.0.0.1:${ports.a}", http = (), service = "verifier-a"),
    (name = "b", address = "127.0.0.1:${ports.b}", http = (), service = "verifier-b"),
    (name = "contract", address = "127.0.0.1:${ports.contract}", http = (), service = "contract"),
  ],
);
`
}

describe.runIf(runsHere(workerd))('workerd (binary from @cloudflare/workerd-linux-64)', () => {
  const keys: Keys = serverKeys()
  const urls = { a: '', b: '', contract: '' }
  let runtime: RuntimeProcess | undefined
  let cleanup: (() => Promise<void>) | undefined

  beforeAll(async () => {
    if (workerd === undefined) throw new Error('@cloudflare/workerd-linux-64 is not installed')
    const work = await scratch()
    cleanup = work.cleanup
    await bundle('worker', join(work.dir, 'worker.js'))
    await bundle('store-contract-worker', join(work.dir, 'contract.js'))
    const ports = { a: await freePort(), b: await freePort(), contract: await freePort() }
    const pem = keys.response.toPkcs8Pem()
    await writeFile(
      join(work.dir, 'config.capnp'),
      config({ pem, access: await keys.access.public() }, ports),
    )
    const started = await start(workerd, ['serve', join(work.dir, 'config.capnp')], {
      cwd: work.dir,
    })
    runtime = started.process
    for (const name of ['a', 'b', 'contract'] as const) {
      urls[name] = `http://127.0.0.1:${ports[name]}`
      await waitForHttp(urls[name]).catch((error: unknown) => {
        throw new Error(`workerd is not answering on ${urls[name]}:\n${runtime?.output()}`, {
          cause: error,
        })
      })
    }
  })

  afterAll(async () => {
    await runtime?.stop()
    await cleanup?.()
  })

  describe('one Worker', () => {
    describeAccessChecks(() => urls.a, keys, /^workerd a$/)
  })

  describe('two Workers (separate isolates) sharing the Durable Object nonce store', () => {
    it('refuses in one isolate a request another isolate already answered', async () => {
      const { client, lastAccessRequest } = await session(keys, () => urls.a)
      await expect(client.makeAccessRequest('/echo', { once: true })).resolves.toMatchObject({
        instance: 'workerd a',
      })
      const replay = await post(new URL('/echo', urls.b).href, lastAccessRequest())
      expect(codeOf(replay.body)).toBe('BA205')
      // B itself answers fresh requests: the refusal is the shared nonce, not a broken B.
      const viaB = await session(keys, () => urls.b)
      await expect(viaB.client.makeAccessRequest('/echo', {})).resolves.toMatchObject({
        instance: 'workerd b',
      })
    })
  })

  // The stores and the objects run inside workerd; each call's arguments and result cross HTTP.
  const call = async <T>(path: string, body: unknown): Promise<T> => {
    const response = await fetch(new URL(path, urls.contract), {
      method: 'POST',
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(20_000),
    })
    if (!response.ok) throw new Error(`${path}: HTTP ${response.status} ${await response.text()}`)
    return (await response.json()) as T
  }
  const timeLock: ServerTimeLockStore = {
    reserve: (value, expiresAt, now) => call('/time-lock/reserve', { value, expiresAt, now }),
  }
  const authenticationNonce: ServerAuthenticationNonceStore = {
    put: (value, identity, expiresAt, now) =>
      call('/nonce/put', { value, identity, expiresAt, now }),
    consume: async (value, now) =>
      (await call<string | null>('/nonce/consume', { value, now })) ?? undefined,
  }
  describeStoreContract('Durable Object stores in workerd', {
    timeLock: () => timeLock,
    authenticationNonce: () => authenticationNonce,
  })
})
