// Test-only helpers (excluded from the build). JSON is imported rather than read with node:fs so
// that nothing under src depends on Node.
import examples from '../../../../spec/vectors/spec-examples.json' with { type: 'json' }
import wycheproof from '../../../../spec/vectors/wycheproof/ecdsa_secp256r1_sha256_p1363_test.json' with { type: 'json' }

export interface WycheproofTest {
  readonly tcId: number
  readonly comment: string
  readonly flags: readonly string[]
  readonly msg: string
  readonly sig: string
  readonly result: 'valid' | 'invalid' | 'acceptable'
}

export interface WycheproofGroup {
  readonly publicKey: { readonly uncompressed: string }
  readonly tests: readonly WycheproofTest[]
}

export const wycheproofFile = wycheproof as unknown as {
  readonly numberOfTests: number
  readonly testGroups: readonly WycheproofGroup[]
}

interface SpecVector {
  readonly id: string
  readonly message?: string
  readonly json?: unknown
}

const vectors = (examples as unknown as { vectors: readonly SpecVector[] }).vectors

/** The message text of a spec example. */
export function specMessage(id: string): string {
  const vector = vectors.find((v) => v.id === id)
  if (vector?.message === undefined) throw new Error(`no spec vector ${id}`)
  return vector.message
}

export function specJson(id: string): unknown {
  const vector = vectors.find((v) => v.id === id)
  if (vector?.json === undefined) throw new Error(`no spec json ${id}`)
  return vector.json
}

export function specMessages(): readonly { id: string; message: string }[] {
  return vectors.flatMap((v) => (v.message === undefined ? [] : [{ id: v.id, message: v.message }]))
}

/** The exact payload text: between `{"payload":` and `,"signature":"`. */
export function payloadText(message: string): string {
  const start = '{"payload":'
  const end = message.lastIndexOf(',"signature":"')
  if (!message.startsWith(start) || end < 0) throw new Error('not a signed envelope')
  return message.slice(start.length, end)
}

export function signatureOf(message: string): string {
  const parsed = JSON.parse(message) as { signature: string }
  return parsed.signature
}

/** Every access token (`0I…` + gzip body) found anywhere in the spec messages. */
export function specTokens(): readonly string[] {
  const tokens = new Set<string>()
  for (const { message } of specMessages()) {
    for (const match of message.matchAll(/"token":"([^"]+)"/g)) {
      if (match[1] !== undefined) tokens.add(match[1])
    }
  }
  return [...tokens]
}

export function hexToBytes(hex: string): Uint8Array {
  if (hex.length % 2 !== 0) throw new Error('odd hex')
  const out = new Uint8Array(hex.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16)
  return out
}

export function bytesToHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
}

/** Values of the wrong type that every public function must survive. */
export const WRONG_TYPES: readonly unknown[] = [
  null,
  undefined,
  42,
  {},
  '',
  [],
  true,
  Symbol('x'),
  () => 'x',
  new Uint8Array(0),
]

/** Every Wycheproof test with its group's key, all as bytes. */
export const wycheproofCases = wycheproofFile.testGroups.flatMap((group) =>
  group.tests.map((test) => ({
    ...test,
    publicKey: hexToBytes(group.publicKey.uncompressed),
    message: hexToBytes(test.msg),
    signature: hexToBytes(test.sig),
  })),
)

/** Wycheproof messages are bytes; the CESR Verifier takes strings, so only UTF-8 ones qualify. */
export function asUtf8(bytes: Uint8Array): string | null {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes)
  } catch {
    return null
  }
}

/** (signature, public key) pairs that are not valid CESR of the right codes and lengths. */
export function malformedCesrPairs(signature: string, publicKey: string): [string, string][] {
  return [
    [signature.slice(0, -1), publicKey],
    [`${signature}A`, publicKey],
    [signature, publicKey.slice(0, -1)],
    [signature.replace(/^0I/, '0A'), publicKey],
    [publicKey, signature],
    [`${signature.slice(0, -1)}=`, publicKey],
    [signature, `${publicKey.slice(0, -1)}+`],
    ['', publicKey],
    [signature, ''],
    [signature, 'E'.padEnd(44, 'A')],
  ]
}
