import { Blake3Hasher } from '@better-auth/crypto'
import { ChainFile, FileKeyVault, KeyChainOperator } from '@better-auth/keys'
import {
  ConfigurationError,
  type KeySetStore,
  type SigningKey,
  type Verifier,
  type VerificationKeyStore,
} from '@better-auth/protocol'
import type { KeyEndorser } from '@better-auth/protocol/key-chain'
import { ServiceKeyRing } from '@better-auth/server'
import { join } from 'node:path'
import type { Registry } from 'prom-client'
import type { CryptoBackend, KeyRingConfig, Role } from './config.js'
import { EndorsementRoute, RemoteEndorser } from './endorsement.js'
import { generateSigningKey } from './keys.js'

/** The keys of a process whose service keys rotate under the server key chain. */
export interface RotatingKeys {
  readonly prefix: string
  /** The response key, and for the auth service the access key, each following rotations. */
  readonly response: SigningKey
  readonly access: SigningKey | undefined
  /**
   * Access keys trusted for tokens: every replica's, from the shared key set. It tells the access
   * verifier of withdrawn keys (a taint), which then forgets the tokens it cached for them.
   */
  readonly accessVerificationKeys: VerificationKeyStore
  /** The key set document served at `/key/set`. */
  readonly keySet: () => Promise<string>
  /** Auth service with an endorsement credential: endorses application services' keys. */
  readonly endorsement: EndorsementRoute | undefined
  readonly stop: () => void
}

export interface KeyRingSetup {
  readonly role: Role
  readonly ring: KeyRingConfig
  readonly store: KeySetStore
  readonly crypto: CryptoBackend
  readonly verifier: Verifier
  readonly onError: (error: unknown) => void
  /** Where the auth service counts the endorsements it makes, per application service. */
  readonly metrics?: Registry
}

// ServiceKeyRing's defaults, repeated for the endorsement window an auth service grants.
const DAY_MS = 86_400_000
const OVERLAP_MS = 12 * 3_600_000
const CLOCK_SKEW_MS = 60_000

/**
 * Starts the process's ServiceKeyRing. The auth service endorses with the operator's chain and
 * vault; an application service holds no root key and asks the auth service (`/key/endorse`) to
 * endorse its response keys.
 */
export async function startKeyRing(setup: KeyRingSetup): Promise<RotatingKeys> {
  const { ring: config } = setup
  const crypto = { hasher: new Blake3Hasher(), verifier: setup.verifier }
  let endorser: KeyEndorser
  let prefix: string
  if (setup.role === 'app') {
    prefix = config.prefix!
    endorser = new RemoteEndorser({
      authUrl: config.authUrl!,
      credential: config.endorseCredential!,
      prefix,
      crypto,
    })
  } else {
    const dir = config.chainDir!
    const operator = new KeyChainOperator({
      chain: new ChainFile(join(dir, 'chain.json')),
      vault: new FileKeyVault(config.vaultDir ?? join(dir, 'private')),
      crypto,
    })
    prefix = (await operator.show()).prefix
    if (config.prefix !== undefined && config.prefix !== prefix) {
      throw new ConfigurationError('KEY_CHAIN_PREFIX', `is not the prefix of ${dir}/chain.json`)
    }
    endorser = operator
  }
  const rotateEveryMs = config.rotateEveryMs ?? DAY_MS
  const overlapMs = config.overlapMs ?? OVERLAP_MS
  const ring = new ServiceKeyRing({
    prefix,
    store: setup.store,
    endorser,
    purposes: setup.role === 'app' ? ['response'] : ['response', 'access'],
    generateKey: () => generateSigningKey(setup.crypto),
    crypto,
    rotateEveryMs,
    overlapMs,
    refreshEveryMs: config.refreshEveryMs,
    clockSkewMs: CLOCK_SKEW_MS,
    onError: setup.onError,
  })
  await ring.start()
  const endorsement =
    setup.role === 'auth' && config.endorseCredentials !== undefined
      ? new EndorsementRoute({
          credentials: config.endorseCredentials,
          metrics: setup.metrics,
          endorser,
          // An application rotating on the same schedule fits; a longer window is refused.
          maxWindowMs: rotateEveryMs + overlapMs + CLOCK_SKEW_MS,
          clockSkewMs: CLOCK_SKEW_MS,
        })
      : undefined
  return {
    prefix,
    response: ring.signingKey('response'),
    access: setup.role === 'app' ? undefined : ring.signingKey('access'),
    accessVerificationKeys: ring.verificationKeys('access'),
    keySet: ring.keySet,
    endorsement,
    stop: () => ring.stop(),
  }
}
