// The few shapes of the Cloudflare Workers runtime these stores use, written out structurally so
// that the package needs no types package and type-checks anywhere. The runtime's own
// `DurableObjectNamespace`, `DurableObjectState` and `DurableObjectStorage` satisfy them.

/** A Durable Object namespace binding (`env.NONCES`): `idFromName` and `get` are all we use. */
export interface NonceNamespace {
  idFromName(name: string): unknown
  get(id: never): { fetch(request: Request): Promise<Response> }
}

/** The part of `DurableObjectStorage` the nonce object uses. */
export interface NonceObjectStorage {
  get<T>(key: string): Promise<T | undefined>
  put<T>(key: string, value: T): Promise<void>
  delete(key: string): Promise<boolean>
  deleteAll(): Promise<void>
  setAlarm(scheduledTime: number): Promise<void>
}

/** The part of `DurableObjectState` the nonce object uses. */
export interface NonceObjectState {
  readonly storage: NonceObjectStorage
}
