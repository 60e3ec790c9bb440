import type { HttpTracer } from '@better-auth/server/http'
import type { Logger } from './frameworks.js'

/**
 * Request spans as debug log lines (route, status, outcome, BA code, milliseconds): a stand-in
 * for an OpenTelemetry tracer, whose `startSpan`/`span.end` fit the same hook.
 */
export function logTracer(log: Logger): HttpTracer {
  return {
    start(route) {
      const started = performance.now()
      return {
        end({ status, outcome, code }) {
          const ms = Math.round((performance.now() - started) * 1000) / 1000
          log('debug', 'request', { route, status, outcome, ...(code ? { code } : {}), ms })
        },
      }
    },
  }
}
