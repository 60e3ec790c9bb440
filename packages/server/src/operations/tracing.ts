import type { ErrorCode } from '@better-auth/protocol'
import type { FailureKind } from '../http/errors.js'

/** How a request ended: `ok`, or the kind of failure its answer reports (see `failureKind`). */
export type RequestOutcome = 'ok' | FailureKind

/** What a span learns when its request is answered. */
export interface SpanEnd {
  readonly status: number
  readonly outcome: RequestOutcome
  /** The BA code of a failure's answer (BA804 for a rate-limit hit); absent on success. */
  readonly code?: ErrorCode
}

/** One request in flight, from {@link HttpTracer.start}; ended exactly once. */
export interface HttpSpan {
  end(result: SpanEnd): void
}

/**
 * Hears every request to a route the HTTP layer answers: `start` when it begins, `end` on the
 * span once its answer is ready. `route` is a name from a small fixed set (`createSession`, `key`,
 * `health`, `admin.devices`, …), never the request's path, so it is safe as a metric label or a
 * span name and carries no identity. Back it with `@opentelemetry/api` (a span per request) or
 * with metrics; a tracer that throws is ignored, never failing the request.
 */
export interface HttpTracer {
  start(route: string): HttpSpan
}

const NO_SPAN: HttpSpan = { end: () => undefined }

/** Starts a span on each tracer; a tracer's failure costs only its own span. */
export function startSpans(tracers: readonly HttpTracer[], route: string): HttpSpan {
  if (tracers.length === 0) return NO_SPAN
  const spans = tracers.map((tracer) => {
    try {
      return tracer.start(route)
    } catch {
      return NO_SPAN
    }
  })
  return {
    end(result) {
      for (const span of spans) {
        try {
          span.end(result)
        } catch {
          // Tracing is an observer: it never changes the answer.
        }
      }
    },
  }
}
