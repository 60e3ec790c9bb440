/**
 * PostgreSQL server stores.
 *
 * @module @better-auth/store-postgres
 */
export { PostgresStores, type PostgresStoresOptions } from './stores.js'
export { migrate } from './migrations.js'
export { PostgresRevocationFeed, type PostgresRevocationFeedOptions } from './revocation-feed.js'
