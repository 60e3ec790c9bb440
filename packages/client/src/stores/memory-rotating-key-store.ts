import { ConfigurationError } from '@better-auth/protocol'
import type { Hasher, SigningKey } from '@better-auth/protocol'
import {
  KeyChainStore,
  sameChainRecord,
  type ChainRecord,
  type KeyChainPersistence,
} from './key-chain.js'

export interface MemoryRotatingKeyStoreOptions {
  /** Makes a fresh signing key, e.g. `() => WebCryptoP256SigningKey.generate()`. */
  generate: () => Promise<SigningKey> | SigningKey
  /** The protocol hash, used for the forward commitments `hash(next public key)`. */
  hasher: Hasher
}

interface MemoryKey {
  readonly publicKey: string
  readonly key: SigningKey
}

/** The chain record in a variable: loading and comparing-and-saving cannot interleave. */
class MemoryChainPersistence implements KeyChainPersistence<MemoryKey> {
  #record: ChainRecord<MemoryKey> | undefined

  load(): Promise<ChainRecord<MemoryKey> | undefined> {
    return Promise.resolve(this.#record)
  }

  compareAndSave(
    expected: ChainRecord<MemoryKey> | undefined,
    record: ChainRecord<MemoryKey> | undefined,
  ): Promise<boolean> {
    if (!sameChainRecord(this.#record, expected)) return Promise.resolve(false)
    this.#record = record
    return Promise.resolve(true)
  }
}

/**
 * A forward-committed key chain held in memory (KeyChainStore's state machine over a variable):
 * `next()` returns the same pending rotation until `commit()`, and `prepareInitialize()` holds a
 * new chain apart until its `commit()`.
 */
export class MemoryRotatingKeyStore extends KeyChainStore<MemoryKey> {
  constructor(options: MemoryRotatingKeyStoreOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new ConfigurationError('options', 'expected an object')
    }
    const { generate, hasher } = options
    if (typeof generate !== 'function') {
      throw new ConfigurationError('generate', 'expected a function returning a SigningKey')
    }
    if (typeof hasher?.sum !== 'function') {
      throw new ConfigurationError('hasher', 'expected a Hasher')
    }
    super({
      persistence: new MemoryChainPersistence(),
      hasher,
      keys: {
        async generate(): Promise<MemoryKey> {
          const key = await generate()
          if (typeof key?.sign !== 'function' || typeof key.public !== 'function') {
            throw new ConfigurationError('generate', 'did not produce a SigningKey')
          }
          return { publicKey: await key.public(), key }
        },
        signer: (stored) => Promise.resolve(stored.key),
      },
    })
  }
}
