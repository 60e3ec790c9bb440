export type * from './crypto.js'
export type * from './encoding.js'
export type * from './client-stores.js'
export type * from './server-stores.js'
