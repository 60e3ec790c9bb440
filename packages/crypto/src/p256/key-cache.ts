import { LruCache } from '@better-auth/protocol/internal'

export const DEFAULT_KEY_CACHE_SIZE = 1024

/** A bounded cache of imported public keys; `keyCacheSize` names the option in errors. */
export function keyCache<V>(capacity: number = DEFAULT_KEY_CACHE_SIZE): LruCache<string, V> {
  return new LruCache<string, V>(capacity, 'keyCacheSize')
}
