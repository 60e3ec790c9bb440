import { ConfigurationError, protocols } from '@better-auth/protocol'
import type {
  ClientRotatingKeyStore,
  ClientValueStore,
  Hasher,
  Noncer,
  ProtocolName,
  Timestamper,
  VerificationKeyStore,
} from '@better-auth/protocol'
import type { Network } from './network.js'

/** The path each protocol message is sent to. */
export type ClientPaths = { readonly [K in ProtocolName]: string }

export interface ClientStores {
  readonly identity: ClientValueStore
  readonly device: ClientValueStore
  readonly accessToken: ClientValueStore
  readonly authenticationKey: ClientRotatingKeyStore
  readonly accessKey: ClientRotatingKeyStore
  /** The server response keys this client trusts, by CESR public key. */
  readonly responseKeys: VerificationKeyStore
}

export interface BetterAuthClientOptions {
  readonly crypto: { readonly hasher: Hasher; readonly noncer: Noncer }
  readonly encoding: { readonly timestamper: Timestamper }
  readonly io: { readonly network: Network }
  /** Overrides of the interop paths (`/account/create`, …). */
  readonly paths?: Partial<ClientPaths>
  readonly stores: ClientStores
}

export interface ResolvedOptions {
  readonly hasher: Hasher
  readonly noncer: Noncer
  readonly timestamper: Timestamper
  readonly network: Network
  readonly paths: ClientPaths
  readonly stores: ClientStores
}

function section(parent: unknown, key: string, field: string): Record<string, unknown> {
  const value = (parent as Record<string, unknown>)[key]
  if (typeof value !== 'object' || value === null) {
    throw new ConfigurationError(field, 'expected an object')
  }
  return value as Record<string, unknown>
}

/** Checks that `field` names an object with the listed methods, and returns it. */
function implementation<T>(
  parent: Record<string, unknown>,
  key: string,
  field: string,
  methods: readonly string[],
): T {
  const value = parent[key]
  if (typeof value !== 'object' || value === null) {
    throw new ConfigurationError(field, 'missing')
  }
  for (const method of methods) {
    if (typeof (value as Record<string, unknown>)[method] !== 'function') {
      throw new ConfigurationError(`${field}.${method}`, 'expected a function')
    }
  }
  return value as T
}

const VALUE_STORE = ['store', 'get', 'clear'] as const
const ROTATING_KEY_STORE = [
  'initialize',
  'signer',
  'next',
  'commit',
  'clear',
  'prepareInitialize',
] as const

function resolvePaths(paths: unknown): ClientPaths {
  const resolved = {} as Record<ProtocolName, string>
  for (const name of Object.keys(protocols) as ProtocolName[]) {
    resolved[name] = protocols[name].path
  }
  if (paths === undefined) return resolved
  if (typeof paths !== 'object' || paths === null) {
    throw new ConfigurationError('paths', 'expected an object')
  }
  for (const [name, path] of Object.entries(paths)) {
    if (!Object.hasOwn(protocols, name))
      throw new ConfigurationError(`paths.${name}`, 'unknown protocol')
    if (path === undefined) continue
    if (typeof path !== 'string' || !path.startsWith('/')) {
      throw new ConfigurationError(`paths.${name}`, 'expected a path starting with "/"')
    }
    resolved[name as ProtocolName] = path
  }
  return resolved
}

/**
 * Validates everything up front, so a misconfigured client fails at construction with the
 * offending field named, not at the first request. The caller's objects are not modified.
 */
export function resolveOptions(options: unknown): ResolvedOptions {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigurationError('options', 'expected an object')
  }
  const crypto = section(options, 'crypto', 'crypto')
  const encoding = section(options, 'encoding', 'encoding')
  const io = section(options, 'io', 'io')
  const stores = section(options, 'stores', 'stores')
  const resolvedStores: ClientStores = Object.freeze({
    identity: implementation<ClientValueStore>(stores, 'identity', 'stores.identity', VALUE_STORE),
    device: implementation<ClientValueStore>(stores, 'device', 'stores.device', VALUE_STORE),
    accessToken: implementation<ClientValueStore>(
      stores,
      'accessToken',
      'stores.accessToken',
      VALUE_STORE,
    ),
    authenticationKey: implementation<ClientRotatingKeyStore>(
      stores,
      'authenticationKey',
      'stores.authenticationKey',
      ROTATING_KEY_STORE,
    ),
    accessKey: implementation<ClientRotatingKeyStore>(
      stores,
      'accessKey',
      'stores.accessKey',
      ROTATING_KEY_STORE,
    ),
    responseKeys: implementation<VerificationKeyStore>(
      stores,
      'responseKeys',
      'stores.responseKeys',
      ['get'],
    ),
  })
  // One object wired into two slots would silently overwrite one value with the other.
  if (
    new Set([resolvedStores.identity, resolvedStores.device, resolvedStores.accessToken]).size !== 3
  ) {
    throw new ConfigurationError('stores', 'identity, device and accessToken need separate stores')
  }
  if (resolvedStores.authenticationKey === resolvedStores.accessKey) {
    throw new ConfigurationError('stores', 'authenticationKey and accessKey need separate stores')
  }
  return {
    hasher: implementation(crypto, 'hasher', 'crypto.hasher', ['sum']),
    noncer: implementation(crypto, 'noncer', 'crypto.noncer', ['generate128']),
    timestamper: implementation(encoding, 'timestamper', 'encoding.timestamper', ['now', 'format']),
    network: implementation(io, 'network', 'io.network', ['sendRequest']),
    paths: Object.freeze(resolvePaths((options as Record<string, unknown>)['paths'])),
    stores: resolvedStores,
  }
}
