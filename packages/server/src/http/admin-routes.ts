import { ConfigurationError, type JsonValue } from '@better-auth/protocol'
import type { AccountAdmin } from '../admin.js'
import { BearerCredentials } from './bearer-credentials.js'
import { HttpRefusal } from './errors.js'

export interface AdminRoutesOptions {
  /**
   * The operator's bearer secret (at least 32 characters; generate it, e.g. 32 random bytes in
   * base64url). A request must send `Authorization: Bearer <credential>`: without it the answer is
   * 401 (BA303), with another one 403 (BA304), and nothing is read or changed.
   */
  readonly credential: string
  /** Where the admin routes live (default `/admin`, under `prefix`). */
  readonly path?: string
}

/** Which admin operation a request names, with its parameters decoded from the path. */
export type AdminOperation =
  | { readonly name: 'admin.devices'; readonly identity: string }
  | { readonly name: 'admin.events'; readonly identity: string; readonly after: number }
  | { readonly name: 'admin.revoke'; readonly identity: string; readonly device: string }
  | { readonly name: 'admin.delete'; readonly identity: string }

/** Events per page of `GET …/events`; a full page comes with the cursor of the next one. */
export const ADMIN_EVENTS_PAGE = 500

// Identities and devices are CESR text (base64url); anything else cannot name an account.
const ID = /^[A-Za-z0-9_-]{1,256}$/

/**
 * The admin routes, under `path`:
 * - `GET  {path}/accounts/{identity}/devices`: the identity's devices;
 * - `GET  {path}/accounts/{identity}/events[/{after}]`: its events, a page at a time;
 * - `DELETE {path}/accounts/{identity}/devices/{device}`: revokes the device;
 * - `DELETE {path}/accounts/{identity}`: deletes the account.
 * The credential is checked before anything else, so a stranger cannot tell a route from a typo.
 */
export class AdminRoutes {
  readonly path: string
  readonly #admin: AccountAdmin
  readonly #credential: BearerCredentials

  constructor(options: AdminRoutesOptions, admin: AccountAdmin | undefined, prefix: string) {
    if (typeof options !== 'object' || options === null) {
      throw new ConfigurationError('admin', 'must be an object with the credential')
    }
    const credential = new BearerCredentials({ operator: options.credential }, 'admin.credential')
    const path = options.path ?? '/admin'
    if (typeof path !== 'string' || !path.startsWith('/') || path.endsWith('/')) {
      throw new ConfigurationError('admin.path', "must start with '/' and not end with '/'")
    }
    if (admin === undefined) {
      throw new ConfigurationError(
        'admin',
        'needs a server with stores.accountEvents (the log the operations read and record into)',
      )
    }
    this.path = prefix + path
    this.#admin = admin
    this.#credential = credential
  }

  /** Whether `pathname` is under the admin path (then the admin routes answer it, or refuse). */
  owns(pathname: string): boolean {
    return pathname === this.path || pathname.startsWith(this.path + '/')
  }

  /**
   * Refuses a request without the credential (MissingCredentialError) or with another one
   * (InvalidCredentialError), in constant time (`BearerCredentials`).
   */
  async authorize(authorization: string | null | undefined): Promise<void> {
    await this.#credential.authorize(authorization)
  }

  /** The operation a request names; HttpRefusal 404 (BA101) for any other path or method. */
  operation(method: string, pathname: string): AdminOperation {
    const parts = pathname.slice(this.path.length).split('/').slice(1)
    if (parts[0] === 'accounts' && parts[1] !== undefined && ID.test(parts[1])) {
      const identity = parts[1]
      const rest = parts.slice(2)
      if (method === 'GET' && rest.length === 1 && rest[0] === 'devices') {
        return { name: 'admin.devices', identity }
      }
      if (method === 'GET' && rest[0] === 'events' && rest.length <= 2) {
        const cursor = rest[1] ?? '0'
        if (/^\d{1,15}$/.test(cursor)) {
          return { name: 'admin.events', identity, after: Number(cursor) }
        }
      }
      if (
        method === 'DELETE' &&
        rest.length === 2 &&
        rest[0] === 'devices' &&
        ID.test(rest[1] ?? '')
      ) {
        return { name: 'admin.revoke', identity, device: rest[1]! }
      }
      if (method === 'DELETE' && rest.length === 0) return { name: 'admin.delete', identity }
    }
    throw new HttpRefusal(404, 'path', `no admin route ${method} ${pathname}`)
  }

  /** Runs the operation; what it answers as JSON. */
  async run(operation: AdminOperation): Promise<JsonValue> {
    switch (operation.name) {
      case 'admin.devices': {
        const devices = await this.#admin.devices(operation.identity)
        return { devices: devices as unknown as JsonValue }
      }
      case 'admin.events': {
        const events = await this.#admin.events(operation.identity, {
          after: operation.after,
          limit: ADMIN_EVENTS_PAGE,
        })
        const next = events.length === ADMIN_EVENTS_PAGE ? events.at(-1)!.sequence : null
        return { events: events as unknown as JsonValue, next }
      }
      case 'admin.revoke': {
        const event = await this.#admin.revokeDevice(operation.identity, operation.device)
        return { event: event as unknown as JsonValue }
      }
      case 'admin.delete': {
        const event = await this.#admin.deleteAccount(operation.identity)
        return { event: event as unknown as JsonValue }
      }
    }
  }
}
