import type { SigningKey } from '@better-auth/protocol'
import { requireMethods } from '../config.js'

/** A key, or a resolver answering the key in use now (a `ServiceKeyRing`'s, which rotates). */
export type SigningKeySource = SigningKey | (() => SigningKey)

export function keyResolver(field: string, source: SigningKeySource): () => SigningKey {
  if (typeof source === 'function') return source
  requireMethods(field, source, ['sign', 'public'])
  return () => source
}

const publicKeys = new WeakMap<SigningKey, { text?: string; promise: Promise<string> }>()

/**
 * The key's public key, asked once per key object: the text is at hand synchronously after the
 * first answer, so signing with a known key costs no extra await.
 */
export function publicKeyOf(key: SigningKey): string | Promise<string> {
  let entry = publicKeys.get(key)
  if (entry === undefined) {
    const created: { text?: string; promise: Promise<string> } = {
      promise: key.public().then((text) => (created.text = text)),
    }
    // A failed lookup is not remembered: the next call asks again.
    created.promise.catch(() => publicKeys.delete(key))
    publicKeys.set(key, created)
    entry = created
  }
  return entry.text ?? entry.promise
}
