import type { RateLimitVerdict } from '../rate-limit/limiter.js'

/**
 * The IETF RateLimit fields (draft-ietf-httpapi-ratelimit-headers, structured-field form): each
 * policy's quota and window in `RateLimit-Policy`, what is left of it and when it resets in
 * `RateLimit`, and `Retry-After` on a refusal.
 */
export function rateLimitHeaders(verdict: RateLimitVerdict): Record<string, string> {
  const headers: Record<string, string> = {
    'ratelimit-policy': verdict.quotas
      .map((quota) => `"${quota.policy}";q=${quota.limit};w=${Math.ceil(quota.windowMs / 1000)}`)
      .join(', '),
    ratelimit: verdict.quotas
      .map((quota) => `"${quota.policy}";r=${quota.remaining};t=${quota.resetSeconds}`)
      .join(', '),
  }
  if (!verdict.allowed) headers['retry-after'] = String(verdict.retryAfterSeconds)
  return headers
}
