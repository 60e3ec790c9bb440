/**
 * SQLite (node:sqlite) server stores.
 *
 * @module @better-auth/store-sqlite
 */
export { SqliteStores, type SqliteStoresOptions } from './stores.js'
export { migrateConnection as migrate } from './migrations.js'
