import { NobleP256SigningKey } from '@better-auth/crypto'
import { describe, expect, it } from 'vitest'
import {
  SteppingClock,
  blake3Bytes,
  deterministicKey,
  keySequence,
  seededRandom,
} from './deterministic.js'

describe('deterministicKey', () => {
  it('uses BLAKE3 of the label as the secret scalar', async () => {
    const label = 'example/device-1/authentication/key-0'
    const expected = NobleP256SigningKey.fromSecretKey(blake3Bytes(label))
    expect(await deterministicKey(label).public()).toBe(await expected.public())
  })

  it('is pinned, so a change of derivation is a deliberate one', async () => {
    expect(await deterministicKey('example/server/response').public()).toBe(
      '1AAIA0CxwDmkuDVGYdD9ycVwzFStP_QyWCfhPDQbIwhqaqfx',
    )
  })

  it('signs deterministically (RFC 6979)', async () => {
    const a = deterministicKey('example/test')
    const b = deterministicKey('example/test')
    expect(await a.sign('message')).toBe(await b.sign('message'))
  })

  it.each([
    ['zero', new Uint8Array(32)],
    ['at least the group order', new Uint8Array(32).fill(0xff)],
  ])('replaces a %s scalar by the digest of label#1', async (_, invalid) => {
    const seen: string[] = []
    const key = deterministicKey('example/x', (label) => {
      seen.push(label)
      return label === 'example/x' ? invalid : blake3Bytes(label)
    })
    expect(seen).toEqual(['example/x', 'example/x#1'])
    expect(await key.public()).toBe(await deterministicKey('example/x#1').public())
  })

  it('gives up, naming the label, when no candidate is a valid scalar', () => {
    expect(() => deterministicKey('example/x', () => new Uint8Array(32))).toThrow(/"example\/x"/)
  })
})

describe('keySequence', () => {
  it('numbers the keys of a chain in the order they are made', async () => {
    const next = keySequence('example/chain')
    const keys = [next(), next(), next()]
    for (const [index, key] of keys.entries()) {
      expect(await key.public()).toBe(await deterministicKey(`example/chain/key-${index}`).public())
    }
  })
})

describe('seededRandom', () => {
  it('is the counter-mode stream BLAKE3(seed/0) ‖ BLAKE3(seed/1) ‖ …', () => {
    const bytes = new Uint8Array(64)
    seededRandom('s')(bytes)
    expect(bytes.slice(0, 32)).toEqual(blake3Bytes('s/0'))
    expect(bytes.slice(32)).toEqual(blake3Bytes('s/1'))
  })

  it('continues the stream across calls, whatever their sizes', () => {
    const whole = new Uint8Array(100)
    seededRandom('s')(whole)
    const random = seededRandom('s')
    const parts = [16, 16, 7, 61].map((size) => {
      const part = new Uint8Array(size)
      random(part)
      return [...part]
    })
    expect(parts.flat()).toEqual([...whole])
  })

  it('gives each seed its own stream', () => {
    const a = new Uint8Array(16)
    const b = new Uint8Array(16)
    seededRandom('a')(a)
    seededRandom('b')(b)
    expect(a).not.toEqual(b)
  })
})

describe('SteppingClock', () => {
  it('stands still until ticked, then moves one step', () => {
    const clock = new SteppingClock(1_000, 250)
    expect([clock.now(), clock.now()]).toEqual([1_000, 1_000])
    clock.tick()
    clock.tick()
    expect(clock.now()).toBe(1_500)
  })
})
