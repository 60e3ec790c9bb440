import { errorBody } from '@better-auth/protocol'

/**
 * The protocol error body for any failure: `{"error":{"code","message"}}`, no `payload` key.
 * Unexpected failures become BA000 without their message, so internals never leak.
 */
export function errorResponse(error: unknown): string {
  return JSON.stringify(errorBody(error))
}
