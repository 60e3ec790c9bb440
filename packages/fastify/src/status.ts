// The table lives once, in the protocol's error table; the HTTP layer of @better-auth/server
// computes it and this package keeps exporting it.
export { STATUS_BY_CODE } from '@better-auth/server/http'
