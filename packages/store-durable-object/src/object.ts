import type { NonceObjectState, NonceObjectStorage } from './bindings.js'
import { parseCommand, type NonceCommand, type NonceReply } from './commands.js'

/** What one object holds: a reservation, or a challenge nonce's identity, until `expiresAt`. */
interface Entry {
  readonly expiresAt: number
  readonly identity?: string
  /** When, by the object's own clock, the entry may be deleted. */
  readonly reclaimAt: number
}

const ENTRY = 'entry'
/** Alarms are set at most this far ahead (the runtime refuses far-future ones); longer lives re-arm. */
const MAX_ALARM_DELAY_MS = 24 * 60 * 60 * 1000

/**
 * The Durable Object behind `DurableObjectTimeLockStore` and `DurableObjectAuthenticationNonceStore`:
 * one object per nonce or reserved value (addressed with `idFromName`), so every check-then-write
 * on a value runs in the single thread that owns it, whichever isolate or colo the request came
 * from. Export it from your Worker's entry module and bind a namespace to it:
 *
 * ```ts
 * export { BetterAuthNonceObject } from '@better-auth/store-durable-object'
 * ```
 *
 * Expiry is judged by the `now` each call carries (the server's clock). Storage is reclaimed by an
 * alarm set to the entry's lifetime from the object's own clock, so an entry is never deleted
 * before it has lived as long as the caller asked.
 */
export class BetterAuthNonceObject {
  readonly #storage: NonceObjectStorage

  constructor(state: NonceObjectState, _env?: unknown) {
    this.#storage = state.storage
  }

  async fetch(request: Request): Promise<Response> {
    let body: unknown
    try {
      body = await request.json()
    } catch {
      body = undefined
    }
    const command = parseCommand(body)
    if (command === undefined) return new Response('not a nonce command', { status: 400 })
    return Response.json(await this.#run(command))
  }

  /** Reclaims the entry once its lifetime has passed (re-arming for long lifetimes). */
  async alarm(): Promise<void> {
    const entry = await this.#storage.get<Entry>(ENTRY)
    if (entry !== undefined && Date.now() < entry.reclaimAt) {
      await this.#storage.setAlarm(Math.min(entry.reclaimAt, Date.now() + MAX_ALARM_DELAY_MS))
      return
    }
    await this.#storage.deleteAll()
  }

  // The Workers runtime delivers no other event to this object while one of its storage calls is
  // in flight (input gates), so each read-then-write below is atomic without a transaction.
  async #run(command: NonceCommand): Promise<NonceReply> {
    const entry = await this.#storage.get<Entry>(ENTRY)
    const live = entry !== undefined && command.now < entry.expiresAt
    switch (command.op) {
      case 'reserve':
        if (live) return { granted: false }
        await this.#keep(command)
        return { granted: true }
      case 'put':
        await this.#keep(command, command.identity)
        return {}
      case 'consume':
        if (entry === undefined) return {}
        await this.#storage.delete(ENTRY)
        return live && entry.identity !== undefined ? { identity: entry.identity } : {}
    }
  }

  async #keep(
    command: { readonly expiresAt: number; readonly now: number },
    identity?: string,
  ): Promise<void> {
    const reclaimAt = Date.now() + Math.max(0, command.expiresAt - command.now)
    const entry: Entry = { expiresAt: command.expiresAt, reclaimAt }
    await this.#storage.put(ENTRY, identity === undefined ? entry : { ...entry, identity })
    await this.#storage.setAlarm(Math.min(reclaimAt, Date.now() + MAX_ALARM_DELAY_MS))
  }
}
