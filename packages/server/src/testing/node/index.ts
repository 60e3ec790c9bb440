/**
 * `@better-auth/server/testing/node`: fault injection for store tests against real services.
 *
 * @module @better-auth/server/testing/node
 */
export { startTcpProxy, type TcpProxy, type TcpProxyOptions, type Verdict } from './tcp-proxy.js'
