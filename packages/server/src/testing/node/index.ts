// `@better-auth/server/testing/node`: fault injection for store tests against real services.
export { startTcpProxy, type TcpProxy, type TcpProxyOptions, type Verdict } from './tcp-proxy.js'
