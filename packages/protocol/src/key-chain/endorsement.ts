import { InvalidEndorsementError, InvalidMessageError } from '../errors.js'
import type { SigningKey, Verifier } from '../interfaces/crypto.js'
import { readEnvelope, signPayloadText } from '../messages/envelope.js'
import { digest, object, publicKey, type Validator } from '../schema.js'
import type { KeyChain, KeyGeneration } from './chain.js'
import { instant, instantMs } from './instant.js'

/** What an endorsed service key may sign: responses to clients, or access tokens. */
export type KeyPurpose = 'response' | 'access'

/**
 * A root key's statement that `publicKey` may sign for `purpose` between `notBefore` (inclusive)
 * and `notAfter` (exclusive).
 */
export interface Endorsement {
  /** The prefix of the chain whose key signs. */
  readonly chain: string
  /** The identifier of the key event that introduced the signing root key. */
  readonly event: string
  readonly purpose: KeyPurpose
  readonly publicKey: string
  readonly notBefore: string
  readonly notAfter: string
}

/** An endorsement that verified, with the exact text it arrived as. */
export interface VerifiedEndorsement {
  readonly endorsement: Endorsement
  readonly text: string
  /** The root key that signed it. */
  readonly generation: KeyGeneration
}

const purpose: Validator<KeyPurpose> = (value, field) => {
  if (value !== 'response' && value !== 'access') {
    throw new InvalidMessageError(field, 'expected "response" or "access"')
  }
  return value
}

const endorsementShape = object({
  chain: digest,
  event: digest,
  purpose,
  publicKey,
  notBefore: instant,
  notAfter: instant,
})

const endorsementPayload: Validator<Endorsement> = (value, field) => {
  const endorsement = endorsementShape(value, field)
  if (instantMs(endorsement.notAfter) <= instantMs(endorsement.notBefore)) {
    throw new InvalidMessageError(`${field}.notAfter`, 'not after notBefore')
  }
  return endorsement
}

function canonicalText(endorsement: Endorsement): string {
  const { chain, event, purpose, publicKey, notBefore, notAfter } = endorsement
  return JSON.stringify({ chain, event, purpose, publicKey, notBefore, notAfter })
}

/** What a key endorser is asked to sign: `publicKey` may sign for `purpose` in the window. */
export interface EndorseRequest {
  readonly purpose: KeyPurpose
  readonly publicKey: string
  readonly notBefore: Date
  readonly notAfter: Date
}

/**
 * Holds (or can reach) a chain's current root key: the operator's vault, an HSM or a KMS. A
 * process given one endorses its own service keys as they rotate; whoever holds it can endorse
 * any key, so give it only to processes trusted with that.
 */
export interface KeyEndorser {
  /** The key event log, oldest event first: the chain the endorsements are signed under. */
  events(): Promise<readonly string[]>
  /** An endorsement by the chain's current root key. */
  endorse(request: EndorseRequest): Promise<string>
}

export interface EndorseOptions {
  /** The chain's current generation: the key that `signer` holds. */
  readonly generation: KeyGeneration
  readonly chain: KeyChain
  readonly signer: SigningKey
  readonly purpose: KeyPurpose
  /** The service key being endorsed. */
  readonly publicKey: string
  readonly notBefore: Date
  readonly notAfter: Date
}

/** Signs an endorsement of a service key with a root key of `chain`. */
export async function endorseKey(options: EndorseOptions): Promise<string> {
  if ((await options.signer.public()) !== options.generation.publicKey) {
    throw new InvalidEndorsementError('signature', 'the signer does not hold the generation key')
  }
  const endorsement = endorsementPayload(
    {
      chain: options.chain.prefix,
      event: options.generation.id,
      purpose: options.purpose,
      publicKey: options.publicKey,
      notBefore: options.notBefore.toISOString(),
      notAfter: options.notAfter.toISOString(),
    },
    'endorsement',
  )
  return signPayloadText(options.signer, canonicalText(endorsement))
}

/**
 * Verifies an endorsement's signature against the chain: signed by one of its keys that no later
 * event tainted. Validity in time is `endorsementHolds`' question, asked at each use, because a key
 * set carries keys endorsed ahead of their window.
 */
export async function verifyEndorsement(
  text: string,
  chain: KeyChain,
  verifier: Verifier,
): Promise<VerifiedEndorsement> {
  const { endorsement, payloadText, signature } = readEndorsement(text)
  if (endorsement.chain !== chain.prefix) {
    throw new InvalidEndorsementError('chain', 'endorsed by another key chain')
  }
  const generation = chain.generations.find(({ id }) => id === endorsement.event)
  if (generation === undefined) {
    throw new InvalidEndorsementError('unknown-event', 'signed by a key the chain does not hold')
  }
  if (generation.tainted) {
    throw new InvalidEndorsementError('tainted', 'signed by a root key declared compromised')
  }
  if (
    signature === undefined ||
    !(await verifier.verify(payloadText, signature, generation.publicKey))
  ) {
    throw new InvalidEndorsementError('signature', 'signature does not verify')
  }
  return { endorsement, text, generation }
}

function readEndorsement(text: string) {
  const {
    payload: endorsement,
    payloadText,
    signature,
  } = readEnvelope(text, endorsementPayload, true, {}, true)
  if (payloadText !== canonicalText(endorsement)) {
    throw new InvalidMessageError('payload', 'not in canonical form')
  }
  return { endorsement, payloadText, signature }
}

/**
 * What an endorsement says, read and validated but not verified: for reports that must name the
 * key of an endorsement `verifyEndorsement` refused (e.g. one signed by a tainted root key).
 * Never trust a key on this alone.
 */
export function parseEndorsement(text: string): Endorsement {
  return readEndorsement(text).endorsement
}

/** Throws unless `endorsement` lets its key sign for `purpose` at `at`. */
export function assertEndorsementHolds(
  endorsement: Endorsement,
  purpose: KeyPurpose,
  at: Date,
): void {
  if (endorsement.purpose !== purpose) {
    throw new InvalidEndorsementError('purpose', `key is endorsed for ${endorsement.purpose}`)
  }
  const time = at.getTime()
  if (time < instantMs(endorsement.notBefore)) {
    throw new InvalidEndorsementError('not-yet-valid', 'key is endorsed from a later time')
  }
  if (time >= instantMs(endorsement.notAfter)) {
    throw new InvalidEndorsementError('expired', 'key endorsement has expired')
  }
}
