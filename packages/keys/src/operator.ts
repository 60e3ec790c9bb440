import { Blake3Hasher } from '@better-auth/crypto'
import { NodeP256Verifier } from '@better-auth/crypto/node'
import { ConfigurationError, InvalidEndorsementError } from '@better-auth/protocol'
import {
  endorseKey,
  inceptKeyChain,
  parseEndorsement,
  rotateKeyChain,
  serializeKeySet,
  verifyEndorsement,
  verifyKeyChain,
  type KeyChain,
  type Endorsement,
  type KeyChainCrypto,
  type KeyPurpose,
} from '@better-auth/protocol/key-chain'
import type { ChainFile } from './chain-file.js'
import type { RootKeyVault } from './vault.js'

export interface KeyChainOperatorOptions {
  readonly chain: ChainFile
  readonly vault: RootKeyVault
  readonly crypto?: KeyChainCrypto
  readonly now?: () => Date
}

export interface EndorseRequest {
  readonly purpose: KeyPurpose
  readonly publicKey: string
  readonly notBefore: Date
  readonly notAfter: Date
}

/**
 * The operator's view of one server key chain: its log in a ChainFile, its root keys in a vault.
 * Every operation verifies the whole log first and publishes only a log that verifies.
 */
export class KeyChainOperator {
  readonly #chain: ChainFile
  readonly #vault: RootKeyVault
  readonly #crypto: KeyChainCrypto
  readonly #now: () => Date

  constructor(options: KeyChainOperatorOptions) {
    this.#chain = options.chain
    this.#vault = options.vault
    this.#crypto = options.crypto ?? {
      hasher: new Blake3Hasher(),
      verifier: new NodeP256Verifier(),
    }
    this.#now = options.now ?? (() => new Date())
  }

  /** The verified chain; ConfigurationError when there is none yet. */
  async show(): Promise<KeyChain> {
    const events = await this.#chain.read()
    if (events === undefined) {
      throw new ConfigurationError('chain', `${this.#chain.path} does not exist: run init first`)
    }
    return verifyKeyChain(events, this.#crypto)
  }

  /** Starts a chain: keys 0 and 1 in the vault, the inception event in the chain file. */
  async init(): Promise<KeyChain> {
    if ((await this.#chain.read()) !== undefined) {
      throw new ConfigurationError('chain', `${this.#chain.path} exists: a chain is started once`)
    }
    const current = await this.#vault.create(0)
    const next = await this.#vault.create(1)
    const inception = await inceptKeyChain({
      signer: current,
      rotationHash: await this.#crypto.hasher.sum(await next.public()),
      createdAt: this.#now(),
      hasher: this.#crypto.hasher,
    })
    const chain = await verifyKeyChain([inception.text], this.#crypto)
    await this.#chain.write([inception.text])
    return chain
  }

  /**
   * Moves the chain to its committed next key and commits to a new one. With `taint`, everything
   * the current key endorsed stops being trusted: use it when that key may be compromised. The
   * replaced key is destroyed once the new log is written; an interrupted rotation can be run
   * again and reuses the next key it already created.
   */
  async rotate(options: { readonly taint?: boolean } = {}): Promise<KeyChain> {
    const chain = await this.show()
    const { head } = chain
    const signer = await this.#vault.signer(head.sequence + 1)
    if ((await this.#crypto.hasher.sum(await signer.public())) !== head.rotationHash) {
      throw new ConfigurationError(
        'vault',
        `the key for sequence ${head.sequence + 1} is not the one the chain committed to`,
      )
    }
    const createdAt = this.#now()
    if (createdAt.getTime() <= Date.parse(head.createdAt)) {
      throw new ConfigurationError('clock', 'the clock is not after the last event of the chain')
    }
    const next = await this.#vault.create(head.sequence + 2)
    const rotation = await rotateKeyChain(head, {
      signer,
      rotationHash: await this.#crypto.hasher.sum(await next.public()),
      createdAt,
      taint: options.taint === true,
      hasher: this.#crypto.hasher,
    })
    const texts = [...chain.events.map(({ text }) => text), rotation.text]
    const rotated = await verifyKeyChain(texts, this.#crypto, { prefix: chain.prefix })
    await this.#chain.write(texts)
    await this.#vault.destroy(head.sequence)
    return rotated
  }

  /** The verified log's event texts, oldest first (with `endorse`, a `KeyEndorser`). */
  async events(): Promise<readonly string[]> {
    return (await this.show()).events.map(({ text }) => text)
  }

  /** An endorsement of a service key by the chain's current key. */
  async endorse(request: EndorseRequest): Promise<string> {
    const chain = await this.show()
    const generation = chain.generations[chain.generations.length - 1]
    if (generation === undefined) throw new ConfigurationError('chain', 'no generations')
    return endorseKey({
      chain,
      generation,
      signer: await this.#vault.signer(generation.sequence),
      ...request,
    })
  }

  /**
   * The key set document servers publish: the log and the given endorsements, each verified
   * against it. Endorsements by a tainted root key or past their window are left out and
   * reported by the key they endorse; any other faulty one refuses the whole set.
   */
  async publish(endorsements: readonly string[]): Promise<PublishedKeySet> {
    const chain = await this.show()
    const now = this.#now().getTime()
    const keys: string[] = []
    const left: LeftOutEndorsement[] = []
    for (const text of endorsements) {
      try {
        const { endorsement, generation } = await verifyEndorsement(
          text,
          chain,
          this.#crypto.verifier,
        )
        if (Date.parse(endorsement.notAfter) <= now) {
          left.push(leftOut(endorsement, generation.sequence, 'expired'))
          continue
        }
        keys.push(text)
      } catch (error) {
        if (!(error instanceof InvalidEndorsementError) || error.context.fault !== 'tainted') {
          throw error
        }
        // The signature is not checked here: a tainted key's signature proves nothing, and the
        // report only needs to say which service key must be endorsed again.
        const endorsement = parseEndorsement(text)
        // verifyEndorsement found the signing root key before refusing it as tainted.
        const rootKey = chain.generations.findIndex(({ id }) => id === endorsement.event)
        left.push(leftOut(endorsement, rootKey, 'tainted'))
      }
    }
    return {
      document: serializeKeySet({ chain: chain.events.map(({ text }) => text), keys }),
      leftOut: left,
    }
  }
}

function leftOut(
  endorsement: Endorsement,
  rootKey: number,
  reason: LeftOutEndorsement['reason'],
): LeftOutEndorsement {
  return { publicKey: endorsement.publicKey, purpose: endorsement.purpose, rootKey, reason }
}

/** An endorsement `publish` left out: which service key it endorsed, by which root key, and why. */
export interface LeftOutEndorsement {
  /** The endorsed service key (public: an endorsement never holds private material). */
  readonly publicKey: string
  readonly purpose: KeyPurpose
  /** The sequence number of the root key that signed the endorsement. */
  readonly rootKey: number
  /** `tainted`: signed by a root key declared compromised; `expired`: its window has ended. */
  readonly reason: 'tainted' | 'expired'
}

export interface PublishedKeySet {
  /** The key set document, as `BetterAuthHttp`'s `keySet` serves it. */
  readonly document: string
  /** Endorsements not published, and why. */
  readonly leftOut: readonly LeftOutEndorsement[]
}
