// Crypto microbenchmarks: every P-256 backend side by side, plus the suite's other primitives.
// Run with `pnpm --filter @better-auth/bench bench` (BENCH_TIME_MS per case, BENCH_SMOKE=1 for a
// quick CI check). Absolute numbers depend on the machine; the ratios between backends measured in
// one run are what carry over.
import { createPublicKey, verify } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import { decodeCesrAs, encodeCesr } from '@better-auth/cesr'
import {
  GzipTokenEncoder,
  NobleP256SigningKey,
  NobleP256Verifier,
  WebCryptoP256SigningKey,
  WebCryptoP256Verifier,
  blake3Digest,
} from '@better-auth/crypto'
import { NodeP256SigningKey, NodeP256Verifier } from '@better-auth/crypto/node'
import type { SigningKey, Verifier } from '@better-auth/protocol'
import { p256 } from '@noble/curves/nist.js'
import type { BenchCase } from './harness.js'
import { environment, markdownTable, runCases, settingsFromEnv, writeResults } from './harness.js'

const settings = settingsFromEnv()
const subtle = globalThis.crypto.subtle
const EC_P256 = { name: 'ECDSA', namedCurve: 'P-256' }

// Fixed SPKI headers for P-256 points, as the node backend uses them (see key-import.ts there).
const SPKI_COMPRESSED = Buffer.from('3039301306072a8648ce3d020106082a8648ce3d030107032200', 'hex')
const SPKI_UNCOMPRESSED = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex')

// The payload raw import-path cases verify; every pool key has signed it.
const poolMessage = new TextEncoder().encode('pool message')

/** Distinct keys, cycled through by the import cases so that no layer can memoize one key. */
const keyPool = Array.from({ length: 256 }, () => {
  const secret = p256.utils.randomSecretKey()
  return {
    compressed: p256.getPublicKey(secret, true),
    signature: p256.sign(poolMessage, secret, { prehash: true, format: 'compact' }),
  }
})
let next = 0
function poolEntry(): (typeof keyPool)[number] {
  next = (next + 1) % keyPool.length
  return keyPool[next]!
}
function poolKey(): Uint8Array {
  return poolEntry().compressed
}

function uncompressed(compressed: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(p256.Point.fromBytes(compressed).toBytes(false))
}

function fail(what: string): never {
  throw new Error(`benchmark sanity check failed: ${what}`)
}

// A realistic signed payload: an account creation request, the size of the ones in the spec
// examples. Signing and verifying hash it, so its length matters a little.
const signer = NobleP256SigningKey.generate()
const publicKey = await signer.public()
const rotationHash = blake3Digest('next key')
const message = JSON.stringify({
  access: { nonce: '0ABo_ry5ZRGKnE9tYyuq7KeX' },
  request: {
    authentication: {
      device: blake3Digest(publicKey + rotationHash),
      identity: blake3Digest(publicKey + rotationHash + blake3Digest('recovery')),
      publicKey,
      recoveryHash: blake3Digest('recovery'),
      rotationHash,
    },
  },
})
const signature = await signer.sign(message)

// What the node backend does on a cache miss: OpenSSL decompresses and validates.
function importCompressed(compressed: Uint8Array): KeyObject {
  return createPublicKey({
    key: Buffer.concat([SPKI_COMPRESSED, compressed]),
    format: 'der',
    type: 'spki',
  })
}

const backends: readonly {
  name: string
  key: SigningKey
  cached: Verifier
  uncached: Verifier
  importKey: (compressed: Uint8Array) => unknown
}[] = [
  {
    name: 'noble',
    key: NobleP256SigningKey.generate(),
    // noble has no key cache: it decompresses and validates the point on every verification.
    cached: new NobleP256Verifier(),
    uncached: new NobleP256Verifier(),
    importKey: (compressed) => p256.Point.fromBytes(compressed),
  },
  {
    name: 'webcrypto',
    key: await WebCryptoP256SigningKey.generate(),
    cached: new WebCryptoP256Verifier(),
    uncached: new WebCryptoP256Verifier({ keyCacheSize: 0 }),
    // What the webcrypto backend does on a cache miss: noble decompresses, Web Crypto imports.
    importKey: (compressed) =>
      subtle.importKey('raw', uncompressed(compressed), EC_P256, false, ['verify']),
  },
  {
    name: 'node',
    key: NodeP256SigningKey.generate(),
    cached: new NodeP256Verifier(),
    uncached: new NodeP256Verifier({ keyCacheSize: 0 }),
    importKey: importCompressed,
  },
  // The same backend without batching: each call runs where it is made. One call at a time pays
  // the batch's event-loop turn; many at once are where batching is meant to help.
  {
    name: 'node, batch: false',
    key: NodeP256SigningKey.generate({ batch: false }),
    cached: new NodeP256Verifier({ batch: false }),
    uncached: new NodeP256Verifier({ keyCacheSize: 0, batch: false }),
    importKey: importCompressed,
  },
]

for (const backend of backends) {
  const ownSignature = await backend.key.sign(message)
  if (!(await backend.cached.verify(message, ownSignature, await backend.key.public()))) {
    fail(`${backend.name} cannot verify its own signature`)
  }
}

const cases: BenchCase[] = []
for (const backend of backends) {
  cases.push({ op: 'sign', backend: backend.name, run: () => backend.key.sign(message) })
}
for (const [op, pick] of [
  ['verify, cached key', (b: (typeof backends)[number]) => b.cached],
  ['verify, key imported per call', (b: (typeof backends)[number]) => b.uncached],
] as const) {
  for (const backend of backends) {
    const verifier = pick(backend)
    cases.push({
      op,
      backend: backend.name,
      run: async () => {
        if (!(await verifier.verify(message, signature, publicKey))) fail(`${op} ${backend.name}`)
      },
    })
  }
}
// Throughput when many requests verify at once. Web Crypto runs each verification on libuv's
// thread pool, so concurrent ones use several cores; the node backend verifies synchronously on
// the event loop thread, one at a time. Which one wins here depends on the core count.
const CONCURRENT = 64
for (const backend of backends) {
  cases.push({
    op: `verify, ${CONCURRENT} concurrent, cached key`,
    backend: backend.name,
    batch: CONCURRENT,
    run: async () => {
      const results = await Promise.all(
        Array.from({ length: CONCURRENT }, () =>
          backend.cached.verify(message, signature, publicKey),
        ),
      )
      if (!results.every(Boolean)) fail(`concurrent verify ${backend.name}`)
    },
  })
}
for (const backend of backends) {
  cases.push({ op: 'key import', backend: backend.name, run: () => backend.importKey(poolKey()) })
}

// The three ways the node backend could import a compressed key. Measured alone and followed by
// the first verification with the new KeyObject, which costs more than later ones (OpenSSL sets
// the key up lazily): the sum is what a cache miss costs.
const b64u = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64url')
const importPaths: readonly [string, (compressed: Uint8Array) => KeyObject][] = [
  [
    'SPKI, compressed point (used)',
    (compressed) =>
      createPublicKey({
        key: Buffer.concat([SPKI_COMPRESSED, compressed]),
        format: 'der',
        type: 'spki',
      }),
  ],
  [
    'JWK, noble decompression',
    (compressed) => {
      const point = uncompressed(compressed)
      return createPublicKey({
        key: {
          kty: 'EC',
          crv: 'P-256',
          x: b64u(point.subarray(1, 33)),
          y: b64u(point.subarray(33, 65)),
        },
        format: 'jwk',
      })
    },
  ],
  [
    'SPKI, noble decompression',
    (compressed) =>
      createPublicKey({
        key: Buffer.concat([SPKI_UNCOMPRESSED, uncompressed(compressed)]),
        format: 'der',
        type: 'spki',
      }),
  ],
]
for (const [path, importKey] of importPaths) {
  cases.push({ op: 'node key import path', backend: path, run: () => importKey(poolKey()) })
}
for (const [path, importKey] of importPaths) {
  cases.push({
    op: 'node key import path + first verify',
    backend: path,
    run: () => {
      const { compressed, signature: poolSignature } = poolEntry()
      const key = importKey(compressed)
      if (!verify('sha256', poolMessage, { key, dsaEncoding: 'ieee-p1363' }, poolSignature)) {
        fail(`first verify via ${path}`)
      }
    },
  })
}

// BLAKE3 of a ~100-character string (a concatenation of two CESR primitives, like device ids).
const hashInput = `${publicKey}${rotationHash}`.padEnd(100, 'x')
cases.push({
  op: 'BLAKE3 hash, 100 chars',
  backend: '@noble/hashes',
  batch: 16,
  run: () => {
    for (let i = 0; i < 16; i++) blake3Digest(hashInput)
  },
})

// A token body like the ones the server issues (~480 bytes of JSON, attributes included).
const tokens = new GzipTokenEncoder()
const body = JSON.stringify({
  serverIdentity: await backends[2]!.key.public(),
  device: blake3Digest('device'),
  identity: blake3Digest('identity'),
  publicKey,
  rotationHash,
  issuedAt: '2025-10-19T17:26:07.097000000Z',
  expiry: '2025-10-19T17:41:07.097000000Z',
  refreshExpiry: '2025-10-20T05:26:07.097000000Z',
  attributes: { permissionsByRole: { admin: ['read', 'write'] } },
})
const encodedBody = await tokens.encode(body)
if ((await tokens.decode(encodedBody)) !== body) fail('token round trip')
cases.push(
  { op: 'token encode (gzip)', backend: 'fflate', run: () => tokens.encode(body) },
  { op: 'token decode (gunzip)', backend: 'fflate', run: () => tokens.decode(encodedBody) },
)

// CESR of a 64-byte signature.
const signatureBytes = decodeCesrAs('0I', signature)
cases.push(
  {
    op: 'CESR encode signature',
    backend: '@better-auth/cesr',
    batch: 64,
    run: () => {
      for (let i = 0; i < 64; i++) encodeCesr('0I', signatureBytes)
    },
  },
  {
    op: 'CESR decode signature',
    backend: '@better-auth/cesr',
    batch: 64,
    run: () => {
      for (let i = 0; i < 64; i++) decodeCesrAs('0I', signature)
    },
  },
)

const env = environment()
console.error(`running ${cases.length} cases, ${settings.timeMs} ms each…`)
const results = await runCases(cases, settings)
const note =
  'Absolute numbers depend on the machine and its load; the ratios between backends, measured ' +
  'side by side in one run, are what matter.'

console.log(`# Crypto microbenchmarks

- date: ${env.date}
- node: ${env.node} (V8 ${env.v8}, OpenSSL ${env.openssl}), ${env.platform}
- cpu: ${env.cpu} × ${env.cpuCount}, load average at start ${env.loadAverage.toFixed(2)}
- time per case: ${settings.timeMs} ms${settings.smoke ? ' (smoke run: numbers are rough)' : ''}

${note}

${markdownTable(results)}
`)
const file = writeResults('crypto', {
  environment: env,
  settings,
  note,
  message: { bytes: Buffer.byteLength(message), tokenBodyBytes: Buffer.byteLength(body) },
  results,
})
console.error(`wrote ${file}`)
