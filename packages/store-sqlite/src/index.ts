export { SqliteStores, type SqliteStoresOptions } from './stores.js'
export { migrateConnection as migrate } from './migrations.js'
