import {
  ConfigurationError,
  type ServerAuthenticationKeyStore,
  type ServerAuthenticationNonceStore,
  type ServerRecoveryHashStore,
  type ServerTimeLockStore,
  type WebhookDeliveryStore,
} from '@better-auth/protocol'
import { afterAll, describe } from 'vitest'
import { describeAccountEvents, type AccountEventStores } from './account-events.js'
import type { RateLimitStore } from '../rate-limit/store.js'
import { describeAuthenticationKeyStore } from './authentication-key-store.js'
import { describeAuthenticationNonceStore } from './authentication-nonce-store.js'
import { describeRateLimitStore } from './rate-limit-store.js'
import { describeRecoveryHashStore } from './recovery-hash-store.js'
import { describeReplayAcrossClocks } from './replay-across-clocks.js'
import { describeRotateAndApply } from './rotate-and-apply.js'
import { describeTimeLockStore } from './time-lock-store.js'
import { describeOperations, type OperationsStores } from './operations.js'
import { describeWebhookDeliveryStore } from './webhook-delivery-store.js'

/** Makes the store a test runs against; called once per test. */
export type StoreFactory<S> = () => Promise<S> | S

/** The stores an implementation provides; the suite covers each one given. */
export interface StoreContractTarget {
  readonly authenticationKey?: StoreFactory<ServerAuthenticationKeyStore>
  readonly recoveryHash?: StoreFactory<ServerRecoveryHashStore>
  readonly authenticationNonce?: StoreFactory<ServerAuthenticationNonceStore>
  readonly timeLock?: StoreFactory<ServerTimeLockStore>
  /** A key store with the event log it records into (one backend). */
  readonly accountEvents?: StoreFactory<AccountEventStores>
  readonly rateLimit?: StoreFactory<RateLimitStore>
  /**
   * A server's stores from this implementation (`SqliteStores`, …): readiness pings and the admin
   * operations through them.
   */
  readonly operations?: StoreFactory<OperationsStores>
  /**
   * Webhook delivery state. Each call should open a new connection to the same backend, as a
   * restarted server would: the restart tests count on nothing being carried over in memory.
   */
  readonly webhookDeliveries?: StoreFactory<WebhookDeliveryStore>
  /** Releases what the factories opened (connections, temporary files); runs after all tests. */
  readonly cleanup?: () => Promise<void>
}

export interface StoreContractOptions {
  /** How many calls race in each concurrency test (default 50). */
  readonly concurrency?: number
}

const DEFAULT_CONCURRENCY = 50

/**
 * Registers the behavioural contract of the server store interfaces as vitest suites, for every
 * store `target` provides. Each test asks its factory for a store and works on fresh random ids,
 * so a factory may hand out one shared (even persistent) backend. Time is always passed in as
 * `now`, a few seconds around the wall clock, so expiry needs no sleeping; backends that sweep
 * expired rows by that `now` should not run two suites in parallel on the same data.
 */
export function describeStoreContract(
  name: string,
  target: StoreContractTarget,
  options: StoreContractOptions = {},
): void {
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY
  if (!Number.isSafeInteger(concurrency) || concurrency < 2) {
    throw new ConfigurationError('concurrency', 'must be an integer of at least 2')
  }
  const {
    authenticationKey,
    recoveryHash,
    authenticationNonce,
    timeLock,
    accountEvents,
    rateLimit,
    operations,
    webhookDeliveries,
    cleanup,
  } = target
  if (
    !authenticationKey &&
    !recoveryHash &&
    !authenticationNonce &&
    !timeLock &&
    !accountEvents &&
    !rateLimit &&
    !operations &&
    !webhookDeliveries
  ) {
    throw new ConfigurationError('target', 'provide at least one store factory')
  }

  describe(`${name}: store contract`, () => {
    if (cleanup) afterAll(cleanup)
    if (authenticationKey) {
      describeAuthenticationKeyStore(authenticationKey, concurrency)
      describeRotateAndApply(authenticationKey, concurrency)
    }
    if (recoveryHash) describeRecoveryHashStore(recoveryHash, concurrency)
    if (authenticationNonce) describeAuthenticationNonceStore(authenticationNonce, concurrency)
    if (timeLock) {
      describeTimeLockStore(timeLock, concurrency)
      describeReplayAcrossClocks(timeLock)
    }
    if (accountEvents) describeAccountEvents(accountEvents, concurrency)
    if (rateLimit) describeRateLimitStore(rateLimit, concurrency)
    if (operations) describeOperations(operations)
    if (webhookDeliveries) describeWebhookDeliveryStore(webhookDeliveries, concurrency)
  })
}
