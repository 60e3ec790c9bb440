import {
  AlreadyExistsError,
  InvalidDeviceError,
  InvalidHashError,
  InvalidIdentityError,
  type AccountEvent,
  type AccountEventType,
  type DeviceKey,
  type RecordedAccountEvent,
  type ServerAccountEventStore,
  type ServerAuthenticationKeyStore,
} from '@better-auth/protocol'
import { describe, expect, it } from 'vitest'
import { AccountHistory } from '../history.js'
import { expectRejection, newDeviceKey, nextDeviceKey } from './assertions.js'
import type { StoreFactory } from './contract.js'
import { randomId } from './random.js'

/** A key store and the event log it records into: one backend. */
export interface AccountEventStores {
  readonly authenticationKey: ServerAuthenticationKeyStore
  readonly accountEvents: ServerAccountEventStore
}

// Event times: a fixed base a few seconds apart, so the point-in-time answers are exact.
const T0 = Date.parse('2026-01-01T00:00:00.000Z')
const at = (step: number): number => T0 + step * 1_000

function eventOf(
  type: AccountEventType,
  key: DeviceKey,
  step: number,
  target?: AccountEvent['target'],
): AccountEvent {
  return {
    id: randomId('event-'),
    type,
    at: at(step),
    identity: key.identity,
    device: key.device,
    publicKey: key.publicKey,
    rotationHash: key.rotationHash,
    nonce: randomId('nonce-'),
    ...(target === undefined ? {} : { target }),
  }
}

/** What was recorded, without the sequence the store assigned. */
function unsequenced(events: readonly RecordedAccountEvent[]): AccountEvent[] {
  return events.map(({ sequence: _sequence, ...event }) => event)
}

function expectIncreasing(events: readonly RecordedAccountEvent[]): void {
  for (let i = 1; i < events.length; i += 1) {
    expect(events[i]!.sequence).toBeGreaterThan(events[i - 1]!.sequence)
  }
}

/**
 * The life of one account, every kind of change once, each with its event; returns the keys
 * and the events in order. Step numbers are the events' times (see `at`).
 */
async function liveAccount({ authenticationKey: store }: AccountEventStores) {
  const first = newDeviceKey()
  const events: AccountEvent[] = []
  const record = async (event: AccountEvent, write: (e: AccountEvent) => Promise<void>) => {
    await write(event)
    events.push(event)
  }
  await record(eventOf('account-created', first, 1), (e) => store.registerIdentity(first, e))
  const rotated = nextDeviceKey(first)
  await record(eventOf('device-rotated', rotated, 2), (e) =>
    store.rotate(rotated, first.rotationHash, e),
  )
  const linked = newDeviceKey(first.identity)
  const linker = nextDeviceKey(rotated)
  const target = {
    device: linked.device,
    publicKey: linked.publicKey,
    rotationHash: linked.rotationHash,
  }
  await record(eventOf('device-linked', linker, 3, target), (e) =>
    store.rotateAndApply(
      linker,
      rotated.rotationHash,
      { kind: 'register-device', device: target },
      e,
    ),
  )
  const linkedNext = nextDeviceKey(linked)
  await record(eventOf('device-rotated', linkedNext, 4), (e) =>
    store.rotate(linkedNext, linked.rotationHash, e),
  )
  const unlinker = nextDeviceKey(linkedNext)
  await record(eventOf('device-unlinked', unlinker, 5, { device: first.device }), (e) =>
    store.rotateAndApply(
      unlinker,
      linkedNext.rotationHash,
      { kind: 'revoke-device', device: first.device },
      e,
    ),
  )
  return { first, rotated, linker, linked, linkedNext, unlinker, events }
}

/**
 * The account event log: each change of the key store records its event in the same atomic step,
 * a refused change records nothing, deletion keeps the history, erasure removes it, and the
 * queries (devices, key at a time) answer from what the store gives back.
 */
export function describeAccountEvents(
  factory: StoreFactory<AccountEventStores>,
  concurrency: number,
): void {
  describe('account event log', () => {
    it('records each change with its event, verbatim and in order', async () => {
      const stores = await factory()
      const { first, events } = await liveAccount(stores)
      const history = await stores.accountEvents.history(first.identity)
      expect(unsequenced(history)).toEqual(events)
      expectIncreasing(history)
    })

    it('records recovery, deletion and session events; deletion keeps the history', async () => {
      const stores = await factory()
      const { authenticationKey: store, accountEvents: log } = stores
      const { first, unlinker, events } = await liveAccount(stores)
      const recovered = newDeviceKey(first.identity)
      const recovery = eventOf('account-recovered', recovered, 6)
      await store.replaceAllDevices(recovered, recovery)
      const session = eventOf('session-created', newDeviceKey(first.identity, recovered.device), 7)
      await log.append(session)
      const deleter = nextDeviceKey(recovered)
      const deletion = eventOf('account-deleted', deleter, 8)
      await store.rotateAndApply(
        deleter,
        recovered.rotationHash,
        { kind: 'delete-identity' },
        deletion,
      )
      await expectRejection(store.publicKey(first.identity, recovered.device), InvalidDeviceError)
      await expectRejection(store.publicKey(first.identity, unlinker.device), InvalidDeviceError)
      const history = await log.history(first.identity)
      expect(unsequenced(history)).toEqual([...events, recovery, session, deletion])
      expectIncreasing(history)
    })

    it('records nothing for a refused change', async () => {
      const stores = await factory()
      const { authenticationKey: store, accountEvents: log } = stores
      const { first, linked, unlinker, events } = await liveAccount(stores)
      const identity = first.identity
      const refused = (type: AccountEventType, key: DeviceKey) => eventOf(type, key, 9)
      await expectRejection(
        store.registerIdentity(newDeviceKey(identity), refused('account-created', first)),
        AlreadyExistsError,
      )
      const wrong = nextDeviceKey(unlinker)
      await expectRejection(
        store.rotate(wrong, randomId(), refused('device-rotated', wrong)),
        InvalidHashError,
      )
      // A revoked device's rotation is refused as a wrong key.
      const revoked = nextDeviceKey(first)
      await expectRejection(
        store.rotate(revoked, first.rotationHash, refused('device-rotated', revoked)),
        InvalidHashError,
      )
      const next = nextDeviceKey(unlinker)
      const reused = { device: linked.device, publicKey: randomId(), rotationHash: randomId() }
      await expectRejection(
        store.rotateAndApply(
          next,
          unlinker.rotationHash,
          { kind: 'register-device', device: reused },
          refused('device-linked', next),
        ),
        AlreadyExistsError,
      )
      await expectRejection(
        store.rotateAndApply(
          next,
          unlinker.rotationHash,
          { kind: 'revoke-device', device: first.device },
          refused('device-unlinked', next),
        ),
        InvalidDeviceError,
      )
      await expectRejection(
        store.replaceAllDevices(
          newDeviceKey(identity, first.device),
          refused('account-recovered', first),
        ),
        AlreadyExistsError,
      )
      const stranger = newDeviceKey()
      await expectRejection(
        store.replaceAllDevices(stranger, refused('account-recovered', stranger)),
        InvalidIdentityError,
      )
      await expectRejection(
        store.revokeDevice(identity, first.device, refused('device-revoked', first)),
        InvalidDeviceError,
      )
      expect(unsequenced(await log.history(identity))).toEqual(events)
      expect(await log.history(stranger.identity)).toEqual([])
    })

    it('records nothing for a change made without an event', async () => {
      const { authenticationKey: store, accountEvents: log } = await factory()
      const key = newDeviceKey()
      await store.registerIdentity(key)
      await store.rotate(nextDeviceKey(key), key.rotationHash)
      await store.deleteIdentity(key.identity)
      expect(await log.history(key.identity)).toEqual([])
    })

    it('records no event for a refused deletion', async () => {
      const { authenticationKey: store, accountEvents: log } = await factory()
      const key = newDeviceKey()
      const created = eventOf('account-created', key, 1)
      await store.registerIdentity(key, created)
      const deletion = eventOf('account-deleted', key, 2)
      await store.deleteIdentity(key.identity, deletion)
      await expectRejection(
        store.deleteIdentity(key.identity, eventOf('account-deleted', key, 3)),
        InvalidIdentityError,
      )
      const stranger = newDeviceKey()
      await expectRejection(
        store.deleteIdentity(stranger.identity, eventOf('account-deleted', stranger, 1)),
        InvalidIdentityError,
      )
      expect(unsequenced(await log.history(key.identity))).toEqual([created, deletion])
      expect(await log.history(stranger.identity)).toEqual([])
    })

    it('records an operator revocation and deletion', async () => {
      const stores = await factory()
      const { authenticationKey: store, accountEvents: log } = stores
      const { first, linked, unlinker, events } = await liveAccount(stores)
      const operator = (type: AccountEventType, step: number, target?: { device: string }) => ({
        id: randomId('event-'),
        type,
        at: at(step),
        identity: first.identity,
        device: 'operator',
        ...(target === undefined ? {} : { target }),
      })
      const revocation = operator('device-revoked', 6, { device: linked.device })
      await store.revokeDevice(first.identity, linked.device, revocation)
      const deletion = operator('account-deleted', 7)
      await store.deleteIdentity(first.identity, deletion)
      await expectRejection(store.publicKey(first.identity, unlinker.device), InvalidDeviceError)
      expect(unsequenced(await log.history(first.identity))).toEqual([
        ...events,
        revocation,
        deletion,
      ])
    })

    it('keeps one event per winner when concurrent rotations reveal the same key', async () => {
      const { authenticationKey: store, accountEvents: log } = await factory()
      const key = newDeviceKey()
      await store.registerIdentity(key, eventOf('account-created', key, 1))
      const attempts = Array.from({ length: concurrency }, () => {
        const next = nextDeviceKey(key)
        return store.rotate(next, key.rotationHash, eventOf('device-rotated', next, 2))
      })
      const results = await Promise.allSettled(attempts)
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1)
      const history = await log.history(key.identity)
      expect(history.map((e) => e.type)).toEqual(['account-created', 'device-rotated'])
    })

    it('pages a history and the feed across identities by sequence', async () => {
      const { authenticationKey: store, accountEvents: log } = await factory()
      const a = newDeviceKey()
      const b = newDeviceKey()
      const sent: AccountEvent[] = []
      const send = async (event: AccountEvent, write?: Promise<void>) => {
        await (write ?? log.append(event))
        sent.push(event)
      }
      const createdA = eventOf('account-created', a, 1)
      await send(createdA, store.registerIdentity(a, createdA))
      const createdB = eventOf('account-created', b, 2)
      await send(createdB, store.registerIdentity(b, createdB))
      await send(eventOf('session-created', a, 3))
      await send(eventOf('session-created', b, 4))
      await send(eventOf('session-refreshed', a, 5))

      const historyA = await log.history(a.identity)
      expect(unsequenced(historyA)).toEqual(sent.filter((e) => e.identity === a.identity))
      const [firstA, secondA] = historyA
      expect(unsequenced(await log.history(a.identity, { limit: 2 }))).toEqual(
        unsequenced(historyA.slice(0, 2)),
      )
      expect(unsequenced(await log.history(a.identity, { after: secondA!.sequence }))).toEqual(
        unsequenced(historyA.slice(2)),
      )
      // Other suites may write to a shared backend meanwhile: only this test's events are judged.
      const ours = new Set([a.identity, b.identity])
      const feed = await log.feed(firstA!.sequence - 1, 10_000)
      const mine = feed.filter((e) => ours.has(e.identity))
      expect(unsequenced(mine)).toEqual(sent)
      expectIncreasing(feed)
      const one = await log.feed(firstA!.sequence - 1, 1)
      expect(one).toEqual([firstA])
    })

    it('erases one identity’s history and nothing else', async () => {
      const stores = await factory()
      const { authenticationKey: store, accountEvents: log } = stores
      const { first, events } = await liveAccount(stores)
      const other = newDeviceKey()
      const otherCreated = eventOf('account-created', other, 1)
      await store.registerIdentity(other, otherCreated)
      await store.deleteIdentity(first.identity)
      expect(await log.erase(first.identity)).toBe(events.length)
      expect(await log.history(first.identity)).toEqual([])
      expect(await log.erase(first.identity)).toBe(0)
      expect(unsequenced(await log.history(other.identity))).toEqual([otherCreated])
    })

    it('answers the devices of an identity and the key valid at a time from the log', async () => {
      const stores = await factory()
      const { first, rotated, linker, linked, linkedNext, unlinker } = await liveAccount(stores)
      await stores.accountEvents.append(
        eventOf('session-refreshed', newDeviceKey(first.identity, linked.device), 6),
      )
      const history = new AccountHistory(stores.accountEvents)
      const id = first.identity

      expect(await history.devices(id)).toEqual([
        {
          device: first.device,
          state: 'revoked',
          publicKey: linker.publicKey,
          addedAt: at(1),
          lastActivityAt: at(3),
          endedAt: at(5),
        },
        {
          device: linked.device,
          state: 'active',
          publicKey: unlinker.publicKey,
          addedAt: at(3),
          lastActivityAt: at(6),
        },
      ])
      const original = (time: number | Date) => history.keyAt(id, first.device, time)
      expect(await original(at(1) - 1)).toBeUndefined()
      expect(await original(at(1))).toBe(first.publicKey)
      expect(await original(at(1) + 500)).toBe(first.publicKey)
      expect(await original(at(2))).toBe(rotated.publicKey)
      expect(await original(at(3) - 1)).toBe(rotated.publicKey)
      expect(await original(new Date(at(4)))).toBe(linker.publicKey)
      expect(await original(at(5))).toBeUndefined()
      expect(await original(at(99))).toBeUndefined()
      const added = (time: number) => history.keyAt(id, linked.device, time)
      expect(await added(at(3) - 1)).toBeUndefined()
      expect(await added(at(3))).toBe(linked.publicKey)
      expect(await added(at(4) + 1)).toBe(linkedNext.publicKey)
      expect(await added(at(99))).toBe(unlinker.publicKey)
      expect(await history.keyAt(id, randomId(), at(99))).toBeUndefined()
    })
  })
}
