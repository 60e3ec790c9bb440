import type { BetterAuthError, DeviceKey, ErrorCode, ErrorContext } from '@better-auth/protocol'
import { expect } from 'vitest'
import { randomId } from './random.js'

/** An error class of the taxonomy: constructible and carrying its stable code statically. */
export type ErrorClass<E extends BetterAuthError> = (abstract new (...args: never[]) => E) & {
  readonly code: ErrorCode
}

/**
 * Asserts the exact class and code (and, when given, context entries) of an error. The class
 * alone is not enough: a subclass of the wrong branch of the taxonomy could pass `instanceof`
 * while telling the server to answer with a different code.
 */
export function expectBetterAuthError<E extends BetterAuthError>(
  error: unknown,
  errorClass: ErrorClass<E>,
  context?: ErrorContext,
): E {
  expect(error).toBeInstanceOf(errorClass)
  const typed = error as E
  expect(typed.code).toBe(errorClass.code)
  if (context !== undefined) expect(typed.context).toMatchObject(context)
  return typed
}

/** The error a call rejects with; resolving is a failure. For errors outside the taxonomy too. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.unreachable('expected a rejection, but the call resolved'),
    (error: unknown) => error,
  )
}

/** Awaits a call that must reject with `errorClass`; resolving is a failure, not a pass. */
export async function expectRejection<E extends BetterAuthError>(
  promise: Promise<unknown>,
  errorClass: ErrorClass<E>,
  context?: ErrorContext,
): Promise<E> {
  const outcome = await promise.then(
    (value: unknown) => ({ rejected: false as const, value }),
    (error: unknown) => ({ rejected: true as const, error }),
  )
  if (!outcome.rejected) {
    return expect.unreachable(
      `expected ${errorClass.name} (${errorClass.code}), but the call resolved`,
    )
  }
  return expectBetterAuthError(outcome.error, errorClass, context)
}

/** Splits the outcomes of concurrent calls, keeping each fulfilment's index. */
export function partition<T>(results: readonly PromiseSettledResult<T>[]): {
  readonly fulfilled: readonly { readonly index: number; readonly value: T }[]
  readonly rejected: readonly unknown[]
} {
  const fulfilled: { index: number; value: T }[] = []
  const rejected: unknown[] = []
  results.forEach((result, index) => {
    if (result.status === 'fulfilled') fulfilled.push({ index, value: result.value })
    else rejected.push(result.reason)
  })
  return { fulfilled, rejected }
}

/** A device key with fresh random values; stores treat keys and hashes as opaque strings. */
export function newDeviceKey(
  identity = randomId('identity-'),
  device = randomId('device-'),
): DeviceKey {
  return {
    identity,
    device,
    publicKey: randomId('public-key-'),
    rotationHash: randomId('rotation-hash-'),
  }
}

/** The key a device rotates to: same identity and device, fresh key and commitment. */
export function nextDeviceKey(key: DeviceKey): DeviceKey {
  return newDeviceKey(key.identity, key.device)
}
