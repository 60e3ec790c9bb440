/**
 * The Node entry, `@better-auth/server/node`: the only part of the package that imports `node:`
 * modules or Node's crypto backend.
 *
 * @module @better-auth/server/node
 */
export { createBetterAuth, type BetterAuth, type CreateBetterAuthOptions } from './create.js'
export {
  nodeAccess,
  nodeBody,
  nodeClient,
  pathnameOf,
  sendAnswer,
  toNodeHandler,
  type Next,
} from './handler.js'
