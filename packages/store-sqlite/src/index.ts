export { SqliteStores, type SqliteStoresOptions } from './stores.js'
export { migrate } from './migrations.js'
