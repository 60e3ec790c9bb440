/**
 * Redis server stores.
 *
 * @module @better-auth/store-redis
 */
export { RedisStores, type RedisStoresOptions } from './stores.js'
export { RedisRevocationFeed, type RedisRevocationFeedOptions } from './revocation-feed.js'
export type { PersistenceLogger } from './persistence.js'
