/**
 * The Fastify plugin of better-auth.
 *
 * @module @better-auth/fastify
 */
export {
  betterAuth,
  type AccessRouteMode,
  type BetterAuthDecorator,
  type BetterAuthPluginOptions,
  type OperationsOptions,
} from './plugin.js'
export { STATUS_BY_CODE } from './status.js'
export { mapError, type MappedError } from './errors.js'
