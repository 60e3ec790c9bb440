import type { RevocationFeed, ServerAuthenticationKeyStore } from '@better-auth/protocol'
import { DeviceLivenessCache } from '@better-auth/server'
import type { PrometheusMetrics } from '@better-auth/server/metrics'
import { Counter } from 'prom-client'
import type { RevocationMode, Role } from './config.js'
import type { OpenedStores } from './stores.js'

type Devices = Pick<ServerAuthenticationKeyStore, 'publicKey'>

export interface AccessRevocation {
  /** What access requests check device liveness against; undefined when REVOCATION=off. */
  readonly devices: Devices | undefined
  /** Where the auth service announces revocations (REVOCATION=feed). */
  readonly revocations: RevocationFeed | undefined
  /** For the startup log. */
  readonly description: string
  close(): Promise<void>
}

/**
 * How access requests learn of revoked devices. Every read of the device store they cause is
 * counted in `/metrics` (`better_auth_device_store_reads_total`), so an operator can see that
 * REVOCATION=feed keeps the access path free of store reads.
 */
export async function accessRevocation(
  mode: RevocationMode,
  role: Role,
  opened: OpenedStores,
  metrics: PrometheusMetrics,
  channel?: string,
): Promise<AccessRevocation> {
  if (mode === 'off') {
    return { devices: undefined, revocations: undefined, description: 'off', close: async () => {} }
  }
  const reads = new Counter({
    name: 'better_auth_device_store_reads_total',
    help: 'Device store reads made to check that an access token’s device is still active.',
    registers: [metrics.registry],
  })
  const store = opened.stores.authenticationKey
  const counted: Devices = {
    publicKey: (identity, device) => {
      reads.inc()
      return store.publicKey(identity, device)
    },
  }
  if (mode === 'read') {
    return { devices: counted, revocations: undefined, description: 'read', close: async () => {} }
  }
  const bus = opened.revocationFeed(channel)
  const cache = new DeviceLivenessCache({ devices: counted, feed: bus.feed })
  try {
    await cache.start()
  } catch (error) {
    await bus.close()
    throw error
  }
  return {
    devices: cache,
    // An application service revokes nothing: it only listens.
    revocations: role === 'auth' ? bus.feed : undefined,
    description: `feed (${bus.kind})`,
    async close() {
      await cache.close()
      await bus.close()
    },
  }
}
