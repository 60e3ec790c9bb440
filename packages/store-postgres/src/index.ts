export { PostgresStores, type PostgresStoresOptions } from './stores.js'
export { migrate } from './migrations.js'
