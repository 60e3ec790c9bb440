import { CounterRateLimiter, type RateLimitStore } from '@better-auth/server'
import { hkdfSync } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import type { RateLimitConfig } from './config.js'

const SECRET_INFO = 'better-auth example server: rate-limit counter keys'

/**
 * The limiter over `store`. Its HMAC secret is derived from the server key file, so every process
 * serving the same accounts (they must share that file) counts into the same counters, and the
 * counters name no address or identity a reader of the store could recover without the file.
 */
export async function buildRateLimiter(
  config: RateLimitConfig,
  store: RateLimitStore,
  keysFile: string,
): Promise<CounterRateLimiter> {
  const keyFile = await readFile(keysFile)
  const secret = new Uint8Array(hkdfSync('sha256', keyFile, new Uint8Array(0), SECRET_INFO, 32))
  return new CounterRateLimiter({ store, secret, routes: config.routes })
}
