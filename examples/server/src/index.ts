export { buildApp, ATTRIBUTES, type AppOptions, type AppStores } from './app.js'
export { loadConfig, type ServerConfig } from './config.js'
export { loadOrCreateKeys, type ServerKeys } from './keys.js'
