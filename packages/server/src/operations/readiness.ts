import { BetterAuthError, ConfigurationError, type ErrorCode } from '@better-auth/protocol'

/** What a readiness check found for one store. */
export type StoreCheck =
  | { readonly status: 'ok' }
  /** The store has no `ping` (in process memory): nothing to lose. */
  | { readonly status: 'unchecked' }
  | {
      readonly status: 'failed'
      /** `unavailable`: the backend refused or failed; `timeout`: no answer in time. */
      readonly reason: 'unavailable' | 'timeout' | 'error'
      readonly code: ErrorCode
      /** The backend's name (`postgres`, `redis`, `sqlite`) when the store reported it. */
      readonly backend?: string
    }

export interface ReadinessReport {
  readonly ready: boolean
  readonly stores: Readonly<Record<string, StoreCheck>>
}

export const DEFAULT_READINESS_TIMEOUT_MS = 2_000

/**
 * Pings every store that can be pinged, all at once, each within `timeoutMs`. The report names
 * each failure by a fixed reason, BA code and backend name only: a driver's message can hold a
 * host name or a connection string, so it never reaches the answer.
 */
export async function checkStores(
  stores: Readonly<Record<string, unknown>>,
  timeoutMs: number = DEFAULT_READINESS_TIMEOUT_MS,
): Promise<ReadinessReport> {
  const entries = await Promise.all(
    Object.entries(stores).map(
      async ([name, store]) => [name, await checkOne(store, timeoutMs)] as const,
    ),
  )
  return {
    ready: entries.every(([, check]) => check.status !== 'failed'),
    stores: Object.fromEntries(entries),
  }
}

async function checkOne(store: unknown, timeoutMs: number): Promise<StoreCheck> {
  const ping = (store as { ping?: unknown } | null | undefined)?.ping
  if (typeof ping !== 'function') return { status: 'unchecked' }
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs)
  })
  try {
    const pinged = Promise.resolve()
      .then(() => (ping as () => unknown).call(store))
      .then(() => 'ok' as const)
    const result = await Promise.race([pinged, timeout])
    if (result === 'timeout') return { status: 'failed', reason: 'timeout', code: 'BA603' }
    return { status: 'ok' }
  } catch (error) {
    return failed(error)
  } finally {
    clearTimeout(timer)
  }
}

function failed(error: unknown): StoreCheck {
  if (!(error instanceof BetterAuthError))
    return { status: 'failed', reason: 'error', code: 'BA000' }
  const backend = error.context.backend
  return {
    status: 'failed',
    reason: error.code === 'BA603' ? 'unavailable' : 'error',
    code: error.code,
    ...(typeof backend === 'string' ? { backend } : {}),
  }
}

/** A readiness timeout: a positive integer of milliseconds. */
export function readinessTimeout(value: unknown): number {
  if (value === undefined) return DEFAULT_READINESS_TIMEOUT_MS
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 60_000) {
    throw new ConfigurationError('readiness.timeoutMs', 'must be an integer from 1 to 60000')
  }
  return value
}
