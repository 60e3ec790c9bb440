import { describe, expect, it } from 'vitest'
import { BetterAuthError, InvalidHashError, StorageUnavailableError } from '../errors.js'
import { storageBackend, storeErrors } from './store-errors.js'
import { Sweeper } from './sweeper.js'

describe('storageBackend', () => {
  const backend = storageBackend('test-backend')

  it("passes the contract's errors through and turns anything else into BA603", async () => {
    const contract = storeErrors.rotationMismatch()
    expect(backend.failure(contract)).toBe(contract)
    const cause = new Error('password=secret')
    const failure = backend.failure(cause)
    expect(failure).toBeInstanceOf(StorageUnavailableError)
    expect(failure.message).toBe('Storage backend is unavailable: test-backend')
    expect(failure.context).toEqual({ backend: 'test-backend' })
    expect(failure.cause).toBe(cause)
    await expect(backend.settle(() => Promise.reject(cause))).rejects.toBeInstanceOf(
      StorageUnavailableError,
    )
  })

  it('settles synchronous operations within the call, throws included', async () => {
    let ran = false
    const settled = backend.settle(() => {
      ran = true
      return 1
    })
    expect(ran).toBe(true)
    expect(await settled).toBe(1)
    const thrown = backend.settle(() => {
      throw storeErrors.unknownDevice()
    })
    await expect(thrown).rejects.toMatchObject({ code: 'BA103' })
    await expect(backend.settle(() => Promise.resolve('async'))).resolves.toBe('async')
  })

  it('names the closed stores without leaking anything', () => {
    const closed = backend.closed()
    expect(closed.code).toBe('BA603')
    expect(closed.context).toEqual({ backend: 'test-backend' })
  })
})

describe('storeErrors', () => {
  it('words each contract error once, with its code and context', () => {
    const expected: Record<keyof typeof storeErrors, [string, object]> = {
      identityExists: ['BA602', { resource: 'identity' }],
      deviceExists: ['BA602', { resource: 'device' }],
      unknownIdentity: ['BA102', {}],
      unknownDevice: ['BA103', {}],
      rotationMismatch: ['BA104', { hashKind: 'rotation' }],
      recoveryMismatch: ['BA104', { hashKind: 'recovery' }],
    }
    for (const [name, [code, context]] of Object.entries(expected)) {
      const error = storeErrors[name as keyof typeof storeErrors]()
      expect(error).toBeInstanceOf(BetterAuthError)
      expect(error.code).toBe(code)
      expect(error.context).toEqual(context)
    }
    expect(storeErrors.rotationMismatch()).toBeInstanceOf(InvalidHashError)
    expect(storeErrors.rotationMismatch()).not.toBe(storeErrors.rotationMismatch())
  })
})

describe('Sweeper', () => {
  it('sweeps at most once per interval, by the `now` it is given', () => {
    const swept: number[] = []
    const sweeper = new Sweeper(100, (now) => swept.push(now))
    for (const now of [0, 50, 99, 100, 150, 250]) sweeper.maybeSweep(now)
    expect(swept).toEqual([0, 100, 250])
  })

  it('never sweeps with an infinite interval, always with a zero one', () => {
    let count = 0
    const never = new Sweeper(Number.POSITIVE_INFINITY, () => ++count)
    expect(never.maybeSweep(0)).toBeUndefined()
    expect(count).toBe(0)
    const always = new Sweeper(0, () => ++count)
    expect([always.maybeSweep(5), always.maybeSweep(5)]).toEqual([1, 2])
  })

  it('claims a sweep before it runs, so concurrent writes start one', async () => {
    let started = 0
    let finish: (value: number) => void = () => undefined
    const sweeper = new Sweeper(
      100,
      () =>
        new Promise<number>((resolve) => {
          started++
          finish = resolve
        }),
    )
    const first = sweeper.maybeSweep(0)
    expect(sweeper.maybeSweep(1)).toBeUndefined()
    finish(3)
    expect(await first).toBe(3)
    expect(started).toBe(1)
  })

  it('lets the next write retry a sweep that failed, synchronously or not', async () => {
    let fail = true
    const sync = new Sweeper(100, () => {
      if (fail) throw new Error('busy')
      return 1
    })
    expect(() => sync.maybeSweep(0)).toThrow('busy')
    fail = false
    expect(sync.maybeSweep(1)).toBe(1)
    expect(sync.maybeSweep(2)).toBeUndefined()

    const async = new Sweeper(100, (now) =>
      now === 0 ? Promise.reject(new Error('down')) : Promise.resolve(now),
    )
    await expect(async.maybeSweep(0)).rejects.toThrow('down')
    expect(await async.maybeSweep(1)).toBe(1)
    expect(async.maybeSweep(2)).toBeUndefined()
  })
})
