export { RedisStores, type RedisStoresOptions } from './stores.js'
