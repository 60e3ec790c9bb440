import {
  Blake3Hasher,
  NobleP256SigningKey,
  NobleP256Verifier,
  Rfc3339Timestamper,
  SecureNoncer,
} from '@better-auth/crypto'
import type { Network } from '../network.js'
import { BetterAuthClient } from '../client.js'
import type { BetterAuthClientOptions } from '../options.js'
import { MemoryRotatingKeyStore } from '../stores/memory-rotating-key-store.js'
import { MemoryValueStore } from '../stores/memory-value-store.js'
import { MemoryVerificationKeyStore } from '../stores/memory-verification-key-store.js'
import { FakeServer } from './fake-server.js'

export const hasher = new Blake3Hasher()
export const noncer = new SecureNoncer()
export const verifier = new NobleP256Verifier()
export const FIXED_NOW = Date.parse('2025-10-19T17:26:07.097Z')
export const timestamper = new Rfc3339Timestamper({ clock: () => FIXED_NOW })

export function generateKey(): Promise<NobleP256SigningKey> {
  return Promise.resolve(NobleP256SigningKey.generate())
}

export interface World {
  readonly server: FakeServer
  readonly responseKey: NobleP256SigningKey
  readonly otherKey: NobleP256SigningKey
}

export function createWorld(): World {
  const responseKey = NobleP256SigningKey.generate()
  const otherKey = NobleP256SigningKey.generate()
  const server = new FakeServer({ hasher, noncer, verifier, responseKey, otherKey })
  return { server, responseKey, otherKey }
}

export function createStores() {
  return {
    identity: new MemoryValueStore(),
    device: new MemoryValueStore(),
    accessToken: new MemoryValueStore(),
    authenticationKey: new MemoryRotatingKeyStore({ generate: generateKey, hasher }),
    accessKey: new MemoryRotatingKeyStore({ generate: generateKey, hasher }),
    responseKeys: new MemoryVerificationKeyStore(),
  }
}

export type Stores = ReturnType<typeof createStores>

export function clientOptions(network: Network, stores: Stores): BetterAuthClientOptions {
  return {
    crypto: { hasher, noncer },
    encoding: { timestamper },
    io: { network },
    stores,
  }
}

/** A client that trusts the world's response key. */
export async function createClient(world: World, network: Network = world.server) {
  const stores = createStores()
  await stores.responseKeys.add(world.responseKey)
  const client = new BetterAuthClient(clientOptions(network, stores))
  return { client, stores }
}

export async function recoveryPair() {
  const key = NobleP256SigningKey.generate()
  return { key, hash: await hasher.sum(await key.public()) }
}
