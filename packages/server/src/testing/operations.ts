import {
  Blake3Hasher,
  DefaultIdentityVerifier,
  GzipTokenEncoder,
  NobleP256SigningKey,
  Rfc3339Timestamper,
  SecureNoncer,
  WebCryptoP256Verifier,
} from '@better-auth/crypto'
import {
  InvalidDeviceError,
  InvalidIdentityError,
  type AccountEvent,
  type DeviceKey,
  type Revocation,
  type ServerAccountEventStore,
  type ServerAuthenticationKeyStore,
  type ServerAuthenticationNonceStore,
  type ServerRecoveryHashStore,
  type ServerTimeLockStore,
} from '@better-auth/protocol'
import { describe, expect, it } from 'vitest'
import { BetterAuthHttp } from '../http/handler.js'
import { checkStores } from '../operations/readiness.js'
import { MemoryRevocationFeed } from '../revocation/memory-feed.js'
import { BetterAuthServer } from '../server.js'
import { expectRejection, newDeviceKey } from './assertions.js'
import type { StoreFactory } from './contract.js'
import { randomId } from './random.js'

/** Every store a server takes, from one implementation. */
export interface OperationsStores {
  readonly authenticationKey: ServerAuthenticationKeyStore
  readonly accountEvents: ServerAccountEventStore
  readonly recoveryHash: ServerRecoveryHashStore
  readonly authenticationNonce: ServerAuthenticationNonceStore
  readonly accessKeyHash: ServerTimeLockStore
}

const CREDENTIAL = 'operator-credential-of-at-least-32-characters'
const BASE = 'http://operations.test'

interface World {
  readonly stores: OperationsStores
  readonly http: BetterAuthHttp
  readonly revoked: Revocation[]
  /** A live account of two devices, registered through the store with its events. */
  account(): Promise<{ first: DeviceKey; second: DeviceKey }>
  admin(method: string, path: string, credential?: string): Promise<Response>
}

async function world(factory: StoreFactory<OperationsStores>): Promise<World> {
  const stores = await factory()
  const hasher = new Blake3Hasher()
  const revocations = new MemoryRevocationFeed()
  const revoked: Revocation[] = []
  await revocations.subscribe({ revoked: (revocation) => revoked.push(revocation), reset() {} })
  const server = new BetterAuthServer({
    crypto: {
      hasher,
      noncer: new SecureNoncer(),
      verifier: new WebCryptoP256Verifier(),
      keyPairs: {
        response: NobleP256SigningKey.generate(),
        access: NobleP256SigningKey.generate(),
      },
    },
    encoding: {
      timestamper: new Rfc3339Timestamper(),
      tokenEncoder: new GzipTokenEncoder(),
      identityVerifier: new DefaultIdentityVerifier(hasher),
    },
    stores,
    revocations,
  })
  const http = new BetterAuthHttp({ server, admin: { credential: CREDENTIAL } })
  const event = (type: AccountEvent['type'], key: DeviceKey, target?: DeviceKey): AccountEvent => ({
    id: randomId('event-'),
    type,
    at: Date.now(),
    identity: key.identity,
    device: key.device,
    publicKey: key.publicKey,
    rotationHash: key.rotationHash,
    ...(target === undefined ? {} : { target: { device: target.device } }),
  })
  return {
    stores,
    http,
    revoked,
    async account() {
      const first = newDeviceKey()
      const second = newDeviceKey(first.identity)
      await stores.recoveryHash.register(first.identity, randomId('recovery-'))
      await stores.authenticationKey.registerIdentity(first, event('account-created', first))
      await stores.authenticationKey.registerDevice(second, event('device-linked', first, second))
      return { first, second }
    },
    admin(method, path, credential) {
      const headers: Record<string, string> =
        credential === undefined ? {} : { authorization: `Bearer ${credential}` }
      return http.fetch(new Request(BASE + path, { method, headers }))
    },
  }
}

async function refusal(response: Response): Promise<{ status: number; code: string }> {
  const body = (await response.json()) as { error?: { code?: string } }
  return { status: response.status, code: body.error?.code ?? 'none' }
}

/**
 * The operations a deployment runs against a store implementation: readiness pings of every
 * store, and the admin routes (behind the operator's credential) revoking devices and deleting
 * accounts through the store, each recorded in its log, and refused without the credential with
 * nothing changed.
 */
export function describeOperations(factory: StoreFactory<OperationsStores>): void {
  describe('operations', () => {
    it('finds every store ready', async () => {
      const { stores } = await world(factory)
      const report = await checkStores({ ...stores })
      expect(report.ready).toBe(true)
      for (const check of Object.values(report.stores)) {
        expect(['ok', 'unchecked']).toContain(check.status)
      }
    })

    it('refuses admin requests without the credential or with another, changing nothing', async () => {
      const w = await world(factory)
      const { first, second } = await w.account()
      const before = await w.stores.accountEvents.history(first.identity)
      const paths = [
        ['DELETE', `/admin/accounts/${first.identity}/devices/${second.device}`],
        ['DELETE', `/admin/accounts/${first.identity}`],
        ['GET', `/admin/accounts/${first.identity}/devices`],
        ['GET', `/admin/accounts/${first.identity}/events`],
        ['GET', '/admin/no/such/route'],
      ] as const
      for (const [method, path] of paths) {
        const missing = await w.admin(method, path)
        expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer /)
        expect(await refusal(missing)).toEqual({ status: 401, code: 'BA303' })
        const wrong = await w.admin(method, path, CREDENTIAL.slice(1) + 'x')
        expect(await refusal(wrong)).toEqual({ status: 403, code: 'BA304' })
        const empty = await w.admin(method, path, '')
        expect(await refusal(empty)).toEqual({ status: 401, code: 'BA303' })
      }
      expect(await w.stores.authenticationKey.publicKey(first.identity, second.device)).toBe(
        second.publicKey,
      )
      expect(await w.stores.accountEvents.history(first.identity)).toEqual(before)
      expect(w.revoked).toEqual([])
    })

    it('lists devices and events, and revokes a device with its event and announcement', async () => {
      const w = await world(factory)
      const { first, second } = await w.account()
      const devices = await w.admin('GET', `/admin/accounts/${first.identity}/devices`, CREDENTIAL)
      expect(devices.status).toBe(200)
      const listed = (await devices.json()) as { devices: { device: string; state: string }[] }
      expect(listed.devices.map(({ device, state }) => [device, state])).toEqual([
        [first.device, 'active'],
        [second.device, 'active'],
      ])

      const path = `/admin/accounts/${first.identity}/devices/${second.device}`
      const revoked = await w.admin('DELETE', path, CREDENTIAL)
      expect(revoked.status).toBe(200)
      const { event } = (await revoked.json()) as { event: AccountEvent }
      expect(event).toMatchObject({
        type: 'device-revoked',
        identity: first.identity,
        device: 'operator',
        target: { device: second.device },
      })
      await expectRejection(
        w.stores.authenticationKey.publicKey(first.identity, second.device),
        InvalidDeviceError,
      )
      expect(await w.stores.authenticationKey.publicKey(first.identity, first.device)).toBe(
        first.publicKey,
      )
      expect(w.revoked).toEqual([{ identity: first.identity, device: second.device }])

      const events = await w.admin('GET', `/admin/accounts/${first.identity}/events`, CREDENTIAL)
      const page = (await events.json()) as {
        events: (AccountEvent & { sequence: number })[]
        next: number | null
      }
      expect(page.events.map((e) => e.type)).toEqual([
        'account-created',
        'device-linked',
        'device-revoked',
      ])
      expect(page.next).toBeNull()

      // The cursor: only the events after the given sequence; a malformed one names no route.
      const after = page.events[0]!.sequence
      const rest = await w.admin(
        'GET',
        `/admin/accounts/${first.identity}/events/${after}`,
        CREDENTIAL,
      )
      expect(((await rest.json()) as { events: AccountEvent[] }).events.map((e) => e.type)).toEqual(
        ['device-linked', 'device-revoked'],
      )
      for (const cursor of ['', '-1', '1x', '1.5']) {
        const bad = await w.admin(
          'GET',
          `/admin/accounts/${first.identity}/events/${cursor}`,
          CREDENTIAL,
        )
        expect(await refusal(bad)).toEqual({ status: 404, code: 'BA101' })
      }

      // A device that is no longer active: 404, nothing recorded twice.
      expect(await refusal(await w.admin('DELETE', path, CREDENTIAL))).toEqual({
        status: 404,
        code: 'BA103',
      })
      expect(await w.stores.accountEvents.history(first.identity)).toHaveLength(3)
    })

    it('deletes an account, keeping its history', async () => {
      const w = await world(factory)
      const { first, second } = await w.account()
      const path = `/admin/accounts/${first.identity}`
      const deleted = await w.admin('DELETE', path, CREDENTIAL)
      expect(deleted.status).toBe(200)
      for (const key of [first, second]) {
        await expectRejection(
          w.stores.authenticationKey.publicKey(key.identity, key.device),
          InvalidDeviceError,
        )
      }
      await expectRejection(
        w.stores.recoveryHash.replace(first.identity, randomId('recovery-')),
        InvalidIdentityError,
      )
      expect(w.revoked).toEqual([{ identity: first.identity }])
      const history = await w.stores.accountEvents.history(first.identity)
      expect(history.map((e) => e.type)).toEqual([
        'account-created',
        'device-linked',
        'account-deleted',
      ])
      expect(await refusal(await w.admin('DELETE', path, CREDENTIAL))).toEqual({
        status: 404,
        code: 'BA102',
      })
      expect(await w.stores.accountEvents.history(first.identity)).toHaveLength(3)
    })
  })
}
