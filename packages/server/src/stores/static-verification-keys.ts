import {
  InvalidTokenError,
  type VerificationKey,
  type VerificationKeyStore,
} from '@better-auth/protocol'

/** A fixed set of trusted keys, resolved once. */
export class StaticVerificationKeyStore implements VerificationKeyStore {
  readonly #keys: readonly VerificationKey[]
  #byIdentity: Promise<Map<string, VerificationKey>> | undefined

  constructor(keys: readonly VerificationKey[]) {
    this.#keys = [...keys]
  }

  async get(identity: string): Promise<VerificationKey> {
    if (this.#byIdentity === undefined) {
      const byIdentity = Promise.all(
        this.#keys.map(async (key) => [await key.public(), key] as const),
      ).then((entries) => new Map(entries))
      this.#byIdentity = byIdentity
      // A key whose public() failed once is asked again next time rather than failing forever.
      byIdentity.catch(() => {
        if (this.#byIdentity === byIdentity) this.#byIdentity = undefined
      })
    }
    const key = (await this.#byIdentity).get(identity)
    if (key === undefined) throw new InvalidTokenError('unknown server key')
    return key
  }
}
