// The store interface lives with the other store interfaces in the protocol package, so store
// packages implement it without depending on the server.
export type { CounterHit, CounterState, RateLimitStore } from '@better-auth/protocol'
