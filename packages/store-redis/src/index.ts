export { RedisStores, type RedisStoresOptions } from './stores.js'
export type { PersistenceLogger } from './persistence.js'
