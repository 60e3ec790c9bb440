const encoder = new TextEncoder()

/** UTF-8 bytes of a string. Lone surrogates become U+FFFD, exactly as every Web API encodes them. */
export function utf8(text: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(text)
}

// %TypedArray%.prototype[@@toStringTag] returns the concrete type name for real typed arrays and
// undefined for anything else. Unlike `instanceof` it works across realms (iframes, vm contexts)
// and cannot be spoofed by an object that merely sets Symbol.toStringTag.
const typedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype) as object
const tagDescriptor: { readonly get?: (this: unknown) => string | undefined } | undefined =
  Object.getOwnPropertyDescriptor(typedArrayPrototype, Symbol.toStringTag)
const typedArrayTag = tagDescriptor?.get

export function isBytes(value: unknown): value is Uint8Array {
  return typedArrayTag === undefined
    ? value instanceof Uint8Array
    : typedArrayTag.call(value) === 'Uint8Array'
}

/**
 * A copy backed by a plain ArrayBuffer. Web Crypto only accepts such buffers, and copying also
 * stops a caller from mutating the bytes while an asynchronous operation still reads them.
 */
export function copyBytes(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(bytes)
}

/**
 * Compares two byte arrays without an early exit on the first difference. Lengths are treated as
 * public (every encoding in the protocol has a fixed length), so a length mismatch returns at once.
 * Anything that is not a Uint8Array compares unequal.
 */
export function constantTimeEqualBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (!isBytes(a) || !isBytes(b)) return false
  if (a.length !== b.length) return false
  let difference = 0
  for (let i = 0; i < a.length; i++) difference |= (a[i] ?? 0) ^ (b[i] ?? 0)
  return difference === 0
}
