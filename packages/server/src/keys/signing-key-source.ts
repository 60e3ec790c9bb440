import { ConfigurationError, type SigningKey } from '@better-auth/protocol'
import { requireMethods } from '../config.js'

/** The key in use at each call: `key.current()` for a rotating key, otherwise `key` itself. */
export function keyResolver(field: string, key: SigningKey): () => SigningKey {
  requireMethods(field, key, ['sign', 'public'])
  if (key.current === undefined) return () => key
  if (typeof key.current !== 'function') {
    throw new ConfigurationError(`${field}.current`, 'must be a function when given')
  }
  const rotating = key as SigningKey & { current(): SigningKey }
  return () => rotating.current()
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
