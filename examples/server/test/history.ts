import type { Network } from '@better-auth/client'
import { NobleP256SigningKey } from '@better-auth/crypto'
import { STRICT, clientsOver, scenarios } from '@better-auth/integration'
import type { AccountEventType, ServerAccountEventStore } from '@better-auth/protocol'
import { devicesOf } from '@better-auth/server'
import { expect, it } from 'vitest'
import { buildApp, type AppStores } from '../src/app.js'

/** What each reference scenario leaves in its account's log, in order. */
export const EXPECTED_HISTORY: Readonly<Record<string, readonly AccountEventType[]>> = {
  // create → rotate → session → refresh → access → delete
  'scenario-1': [
    'account-created',
    'device-rotated',
    'session-created',
    'session-refreshed',
    'account-deleted',
  ],
  // change recovery key → recover on a fresh client → rotate → session → refresh → access
  'scenario-2': [
    'account-created',
    'recovery-key-changed',
    'account-recovered',
    'device-rotated',
    'session-created',
    'session-refreshed',
  ],
  // link → both sign in → the new device uses its session and unlinks the original, whose
  // refresh is refused (no event) → the new device refreshes
  'scenario-3': [
    'account-created',
    'device-linked',
    'session-created',
    'session-created',
    'device-rotated',
    'session-created',
    'session-refreshed',
    'device-unlinked',
    'session-refreshed',
  ],
  // create → session → an access answered with the wrong nonce (no change)
  'scenario-4': ['account-created', 'session-created'],
}

const keys = { response: NobleP256SigningKey.generate(), access: NobleP256SigningKey.generate() }

/**
 * Runs the four reference scenarios through the example app on `stores` and checks each
 * account's log: exactly the expected events in order, each with its own request nonce, and
 * the device list the log gives agrees with the key store.
 */
export function itRecordsTheScenarios(
  stores: () => AppStores & { readonly accountEvents: ServerAccountEventStore },
): void {
  it.each(scenarios.map((s) => [s.id, s] as const))(
    '%s leaves exactly the expected events',
    async (id, scenario) => {
      const given = stores()
      const app = await buildApp({ keys, stores: given })
      try {
        const identities: string[] = []
        const network: Network = {
          async sendRequest(path, message) {
            if (path === '/account/create') {
              const parsed = JSON.parse(message) as {
                payload: { request: { authentication: { identity: string } } }
              }
              identities.push(parsed.payload.request.authentication.identity)
            }
            const answer = await app.inject({
              method: 'POST',
              url: path,
              payload: message,
              headers: { 'content-type': 'application/json' },
            })
            return answer.body
          },
        }
        const responseKey = (await app.inject({ method: 'POST', url: '/key/response' })).body
        await scenario.run(clientsOver(network, responseKey), STRICT)

        expect(identities).toHaveLength(1)
        const identity = identities[0]!
        const history = await given.accountEvents.history(identity)
        expect(history.map((event) => event.type)).toEqual(EXPECTED_HISTORY[id])
        expect(new Set(history.map((event) => event.identity))).toEqual(new Set([identity]))
        expect(new Set(history.map((event) => event.nonce)).size).toBe(history.length)
        expect(new Set(history.map((event) => event.id)).size).toBe(history.length)
        for (let i = 1; i < history.length; i += 1) {
          expect(history[i]!.sequence).toBeGreaterThan(history[i - 1]!.sequence)
          expect(history[i]!.at).toBeGreaterThanOrEqual(history[i - 1]!.at)
        }
        // Every device the log calls active has, in the key store, the key the log last gave it.
        for (const device of devicesOf(history)) {
          if (device.state !== 'active') continue
          expect(await given.authenticationKey.publicKey(identity, device.device)).toBe(
            device.publicKey,
          )
        }
      } finally {
        await app.close()
      }
    },
  )
}
