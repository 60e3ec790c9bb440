// The access request path measured piece by piece in one process (no sockets): what the library
// adds on top of the two signature operations it cannot avoid (verify the request, sign the
// response). Each piece runs over its own pre-signed requests, each valid once.
//
//   ACCESS_PATH_REQUESTS=20000 (per piece; BENCH_SMOKE=1: 2000)
import { Blake3Hasher, DefaultIdentityVerifier, Rfc3339Timestamper } from '@better-auth/crypto'
import {
  NodeGzipTokenEncoder,
  NodeP256SigningKey,
  NodeP256Verifier,
} from '@better-auth/crypto/node'
import { ATTRIBUTES, buildApp } from '@better-auth/example-server'
import { parseAccessRequest } from '@better-auth/protocol'
import {
  AccessVerifier,
  BetterAuthServer,
  StaticVerificationKeyStore,
  memoryServerStores,
} from '@better-auth/server'
import Fastify from 'fastify'
import { environment, writeResults } from './harness.js'
import { FOO_BAR, accessMessage, newKeyPair, newNonce, randomDigest } from './messages.js'

const smoke = process.env.BENCH_SMOKE === '1'
const count = Number(process.env.ACCESS_PATH_REQUESTS ?? (smoke ? 2000 : 20_000))

const keys = { response: NodeP256SigningKey.generate(), access: NodeP256SigningKey.generate() }
const verifier = new NodeP256Verifier()
const timestamper = new Rfc3339Timestamper()
const tokenEncoder = new NodeGzipTokenEncoder()
const hasher = new Blake3Hasher()

function build() {
  const stores = memoryServerStores()
  const server = new BetterAuthServer({
    crypto: {
      hasher,
      noncer: { generate128: () => Promise.resolve('') },
      verifier,
      keyPairs: keys,
    },
    encoding: { timestamper, tokenEncoder, identityVerifier: new DefaultIdentityVerifier(hasher) },
    stores,
    attributes: () => ATTRIBUTES,
  })
  const accessVerifier = new AccessVerifier({
    crypto: { verifier },
    encoding: { timestamper, tokenEncoder },
    stores: {
      accessNonce: stores.accessNonce,
      accessVerificationKeys: new StaticVerificationKeyStore([keys.access]),
    },
  })
  return { server, accessVerifier, stores }
}

// A token as the server issues it, for a client access key.
const client = await newKeyPair()
const now = Date.now()
const { encodeAccessToken } = await import('@better-auth/protocol')
const token = await encodeAccessToken(
  {
    serverIdentity: await keys.access.public(),
    device: randomDigest(),
    identity: randomDigest(),
    publicKey: client.publicKey,
    rotationHash: randomDigest(),
    issuedAt: new Date(now).toISOString(),
    expiry: new Date(now + 15 * 60_000).toISOString(),
    refreshExpiry: new Date(now + 12 * 3_600_000).toISOString(),
    attributes: ATTRIBUTES,
  },
  keys.access,
  tokenEncoder,
)

async function messages(n: number): Promise<string[]> {
  const list: string[] = []
  for (let i = 0; i < n; i++) list.push(await accessMessage(token, client.key))
  return list
}

interface Piece {
  readonly name: string
  readonly microsPerOp: number
}

async function time(
  name: string,
  inputs: readonly string[],
  run: (input: string) => unknown,
): Promise<Piece> {
  // First tenth warms up the JIT and is not counted.
  const warm = Math.floor(inputs.length / 10)
  for (let i = 0; i < warm; i++) await run(inputs[i]!)
  const started = performance.now()
  for (let i = warm; i < inputs.length; i++) await run(inputs[i]!)
  const microsPerOp = ((performance.now() - started) * 1000) / (inputs.length - warm)
  console.error(`${name}: ${microsPerOp.toFixed(1)} µs`)
  return { name, microsPerOp }
}

const pieces: Piece[] = []
{
  const inputs = await messages(count)
  pieces.push(await time('parseAccessRequest', inputs, (m) => parseAccessRequest(m)))
  const parsed = inputs.map((m) => parseAccessRequest(m))
  const payloads = parsed.map((e) => e.payloadText)
  const signatures = new Map(parsed.map((e) => [e.payloadText, e.signature!]))
  pieces.push(
    await time('signature verify alone (NodeP256Verifier)', payloads, async (text) => {
      if (!(await verifier.verify(text, signatures.get(text)!, client.publicKey))) {
        throw new Error('verify failed')
      }
    }),
  )
}
{
  const { accessVerifier } = build()
  pieces.push(
    await time('AccessVerifier.verify (cached token)', await messages(count), (m) =>
      accessVerifier.verify(m),
    ),
  )
}
{
  const { server } = build()
  const nonces = Array.from({ length: count }, () => newNonce())
  pieces.push(await time('sign alone (NodeP256SigningKey)', nonces, (n) => keys.response.sign(n)))
  pieces.push(
    await time('BetterAuthServer.accessResponse (sign + envelope)', nonces, (n) =>
      server.accessResponse(n, { wasFoo: FOO_BAR.foo, wasBar: FOO_BAR.bar }),
    ),
  )
}
{
  const stores = memoryServerStores()
  const app = await buildApp({ keys, stores })
  await app.ready()
  const inputs = await messages(count)
  pieces.push(
    await time('fastify app.inject POST /foo/bar (no socket)', inputs, async (m) => {
      const response = await app.inject({
        method: 'POST',
        url: '/foo/bar',
        payload: m,
        headers: { 'content-type': 'application/json' },
      })
      if (response.statusCode !== 200) throw new Error(response.body)
    }),
  )
  await app.close()
  // The same request to a plain JSON route with no verification: what fastify and inject cost.
  const plain = Fastify()
  plain.post('/plain', () => ({ wasFoo: FOO_BAR.foo, wasBar: FOO_BAR.bar }))
  await plain.ready()
  pieces.push(
    await time(
      'fastify app.inject POST /plain, plain JSON route (no socket)',
      inputs,
      async (m) => {
        const response = await plain.inject({
          method: 'POST',
          url: '/plain',
          payload: m,
          headers: { 'content-type': 'application/json' },
        })
        if (response.statusCode !== 200) throw new Error(response.body)
      },
    ),
  )
  await plain.close()
}

const byName = new Map(pieces.map((piece) => [piece.name, piece.microsPerOp]))
const crypto =
  (byName.get('signature verify alone (NodeP256Verifier)') ?? 0) +
  (byName.get('sign alone (NodeP256SigningKey)') ?? 0)
const env = environment()
console.log(`# Access path, piece by piece (one process, no sockets)

- date: ${env.date}; node ${env.node}, OpenSSL ${env.openssl}; ${env.cpu} × ${env.cpuCount}; load ${env.loadAverage.toFixed(2)}
- ${count} requests per piece (the first tenth warms up)

| piece | µs/op |
| --- | --: |
${pieces.map((p) => `| ${p.name} | ${p.microsPerOp.toFixed(1)} |`).join('\n')}
| verify + sign (the floor of the crypto) | ${crypto.toFixed(1)} |
| library overhead: AccessVerifier.verify + accessResponse − verify − sign | ${(
  (byName.get('AccessVerifier.verify (cached token)') ?? 0) +
  (byName.get('BetterAuthServer.accessResponse (sign + envelope)') ?? 0) -
  crypto
).toFixed(1)} |
| plugin overhead: /foo/bar inject − /plain inject − verify − accessResponse | ${(
  (byName.get('fastify app.inject POST /foo/bar (no socket)') ?? 0) -
  (byName.get('fastify app.inject POST /plain, plain JSON route (no socket)') ?? 0) -
  (byName.get('AccessVerifier.verify (cached token)') ?? 0) -
  (byName.get('BetterAuthServer.accessResponse (sign + envelope)') ?? 0)
).toFixed(1)} |
`)
console.error(`wrote ${writeResults('access-path', { environment: env, count, pieces })}`)
