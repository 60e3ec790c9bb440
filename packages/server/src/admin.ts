import {
  type AccountEvent,
  type AccountHistoryOptions,
  type RecordedAccountEvent,
  type Revocation,
  type ServerAccountEventStore,
  type ServerAuthenticationKeyStore,
  type ServerRecoveryHashStore,
} from '@better-auth/protocol'
import { devicesOf, type DeviceSummary } from './history.js'

/** The `device` of an operator's events: no device of the account made the change. */
export const OPERATOR_DEVICE = 'operator'

/** What the admin operations need of the server that owns them. */
export interface AccountAdminContext {
  readonly stores: {
    readonly authenticationKey: ServerAuthenticationKeyStore
    readonly recoveryHash: ServerRecoveryHashStore
    readonly accountEvents: ServerAccountEventStore
  }
  /** A fresh event id. */
  eventId(): Promise<string>
  /** The server's clock, epoch ms. */
  now(): number
  /** Hands a committed event to the server's in-process listeners. */
  publish(event: AccountEvent): void
  /** Announces a revocation on the server's `revocations` feed (best effort). */
  announce(revocation: Revocation): Promise<void>
}

/**
 * What an operator does to accounts, with no request of the account's own: read an account's
 * history and devices, revoke a device, delete an account. Each change is recorded in the event
 * log with the change itself (`device: 'operator'`, no key or nonce), heard by `subscribe`
 * listeners and webhooks like any other, and announced on the `revocations` feed. Guard these
 * calls: whoever can make them can lock any user out (`admin` option of the HTTP layer).
 */
export class AccountAdmin {
  readonly #context: AccountAdminContext

  constructor(context: AccountAdminContext) {
    this.#context = context
  }

  /** The identity's events, oldest first; empty for an identity never seen. */
  events(
    identity: string,
    options?: AccountHistoryOptions,
  ): Promise<readonly RecordedAccountEvent[]> {
    return this.#context.stores.accountEvents.history(identity, options)
  }

  /** Every device the identity ever had, with its state and last activity. */
  async devices(identity: string): Promise<DeviceSummary[]> {
    return devicesOf(await this.events(identity))
  }

  /**
   * Revokes one device: its sessions can no longer refresh, and access verifiers that check
   * devices refuse it at once (or once the feed reaches them). InvalidDeviceError (BA103) when
   * the device is not active; then nothing is recorded or announced.
   */
  async revokeDevice(identity: string, device: string): Promise<AccountEvent> {
    const event = await this.#event('device-revoked', identity, { device })
    await this.#context.stores.authenticationKey.revokeDevice(identity, device, event)
    this.#context.publish(event)
    await this.#context.announce({ identity, device })
    return event
  }

  /**
   * Deletes the account: its devices and its recovery hash go, its history stays (erase it with
   * `server.history.erase`). InvalidIdentityError (BA102) when no such account exists (never
   * created, or already deleted); then nothing changes. The store decides that atomically with
   * the deletion, so of concurrent deletions exactly one succeeds and is recorded.
   */
  async deleteAccount(identity: string): Promise<AccountEvent> {
    const event = await this.#event('account-deleted', identity)
    await this.#context.stores.authenticationKey.deleteIdentity(identity, event)
    this.#context.publish(event)
    await this.#context.announce({ identity })
    await this.#context.stores.recoveryHash.delete(identity)
    return event
  }

  async #event(
    type: 'device-revoked' | 'account-deleted',
    identity: string,
    target?: { readonly device: string },
  ): Promise<AccountEvent> {
    return {
      id: await this.#context.eventId(),
      type,
      at: this.#context.now(),
      identity,
      device: OPERATOR_DEVICE,
      ...(target === undefined ? {} : { target }),
    }
  }
}
