// The access path of @better-auth/fastify, two builds side by side in one process (no sockets):
// the workspace's plugin ("after") and the plugin of another checkout ("before"), each serving
// `/foo/bar` as the example server does, in alternating rounds (ABBA) so that the load of a
// shared machine falls on both alike. Reported per build: server-side CPU µs per request
// (process.cpuUsage, user + system, over the round) and wall µs, the median over rounds, and the
// ratio after ÷ before per round.
//
//   FASTIFY_BEFORE=/path/to/checkout/packages/fastify/src/index.ts (required; its node_modules
//   must resolve, e.g. a worktree whose packages/fastify/node_modules links to this one's)
//   FASTIFY_AB_ROUNDS=10 (per build), FASTIFY_AB_REQUESTS=2000 (per round; BENCH_SMOKE=1: 2, 200),
//   FASTIFY_AB_WARMUP=<requests per build before measuring> (default one round). On a loaded
//   machine, many short rounds (say 200 × 100) pair each build's round with one measured
//   moments apart, so the per-round ratios swing less.
import { Blake3Hasher, DefaultIdentityVerifier, Rfc3339Timestamper } from '@better-auth/crypto'
import {
  NodeGzipTokenEncoder,
  NodeP256SigningKey,
  NodeP256Verifier,
} from '@better-auth/crypto/node'
import { ATTRIBUTES } from '@better-auth/example-server'
import { encodeAccessToken } from '@better-auth/protocol'
import { BetterAuthServer, memoryServerStores } from '@better-auth/server'
import Fastify, { type FastifyInstance, type FastifyPluginAsync } from 'fastify'
import { pathToFileURL } from 'node:url'
import { environment, writeResults } from './harness.js'
import { accessMessage, newKeyPair, randomDigest } from './messages.js'

const smoke = process.env.BENCH_SMOKE === '1'
const rounds = Number(process.env.FASTIFY_AB_ROUNDS ?? (smoke ? 2 : 10))
const perRound = Number(process.env.FASTIFY_AB_REQUESTS ?? (smoke ? 200 : 2000))
const warmUp = Number(process.env.FASTIFY_AB_WARMUP ?? perRound)
const beforePath = process.env.FASTIFY_BEFORE
if (beforePath === undefined) throw new Error('FASTIFY_BEFORE must name the other build')

type Plugin = FastifyPluginAsync<{
  server: BetterAuthServer
  accessVerifier: ReturnType<BetterAuthServer['accessVerifier']>
}>
const builds: Record<'before' | 'after', Plugin> = {
  before: ((await import(pathToFileURL(beforePath).href)) as { betterAuth: Plugin }).betterAuth,
  after: (
    (await import(new URL('../../packages/fastify/src/index.ts', import.meta.url).href)) as {
      betterAuth: Plugin
    }
  ).betterAuth,
}

const keys = { response: NodeP256SigningKey.generate(), access: NodeP256SigningKey.generate() }
const verifier = new NodeP256Verifier()
const timestamper = new Rfc3339Timestamper()
const tokenEncoder = new NodeGzipTokenEncoder()
const hasher = new Blake3Hasher()

/**
 * Calls into the crypto suite, per build: both builds share the suite, so the same counts per
 * request mean any CPU difference lies in the plugin and fastify, not in extra crypto work.
 */
type Calls = Record<string, number>
const calls: Record<'before' | 'after', Calls> = { before: {}, after: {} }

function counted<T extends object>(target: T, label: string, into: Calls): T {
  return new Proxy(target, {
    get(object, property) {
      const value: unknown = Reflect.get(object, property, object)
      if (typeof value !== 'function') return value
      const name = `${label}.${String(property)}`
      return (...args: unknown[]) => {
        into[name] = (into[name] ?? 0) + 1
        return (value as (...a: unknown[]) => unknown).apply(object, args)
      }
    },
  })
}

/** The example server's `/foo/bar` on one build of the plugin, with its own stores. */
async function app(plugin: Plugin, into: Calls): Promise<FastifyInstance> {
  const stores = memoryServerStores()
  const countedHasher = counted(hasher, 'hasher', into)
  const server = new BetterAuthServer({
    crypto: {
      hasher: countedHasher,
      noncer: { generate128: () => Promise.resolve('') },
      verifier: counted(verifier, 'verifier', into),
      keyPairs: {
        response: counted(keys.response, 'responseKey', into),
        access: counted(keys.access, 'accessKey', into),
      },
    },
    encoding: {
      timestamper: counted(timestamper, 'timestamper', into),
      tokenEncoder: counted(tokenEncoder, 'tokenEncoder', into),
      identityVerifier: new DefaultIdentityVerifier(countedHasher),
    },
    stores,
    attributes: () => ATTRIBUTES,
  })
  const fastify = Fastify()
  await fastify.register(plugin, {
    server,
    accessVerifier: server.accessVerifier({ accessNonce: stores.accessNonce }),
  })
  fastify.post('/foo/bar', { config: { betterAuth: 'access' } }, (request) => {
    const data = request.betterAuth!.request as { foo?: unknown; bar?: unknown }
    return { wasFoo: (data.foo ?? null) as string, wasBar: (data.bar ?? null) as string }
  })
  await fastify.ready()
  return fastify
}

const client = await newKeyPair()
const now = Date.now()
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

// Signed per round, just before it: each is valid once and within the 30 s access window.
async function messages(n: number): Promise<string[]> {
  const list: string[] = []
  for (let i = 0; i < n; i++) list.push(await accessMessage(token, client.key))
  return list
}

interface Round {
  readonly cpuMicros: number
  readonly wallMicros: number
}

async function round(fastify: FastifyInstance, inputs: readonly string[]): Promise<Round> {
  const cpu = process.cpuUsage()
  const started = performance.now()
  for (const payload of inputs) {
    const response = await fastify.inject({
      method: 'POST',
      url: '/foo/bar',
      payload,
      headers: { 'content-type': 'application/json' },
    })
    if (response.statusCode !== 200) throw new Error(response.body)
  }
  const wall = performance.now() - started
  const { user, system } = process.cpuUsage(cpu)
  return { cpuMicros: (user + system) / inputs.length, wallMicros: (wall * 1000) / inputs.length }
}

const apps = {
  before: await app(builds.before, calls.before),
  after: await app(builds.after, calls.after),
}
// Warm-up: both builds compiled before anything is measured.
for (let done = 0; done < warmUp; done += perRound) {
  for (const name of ['before', 'after'] as const) await round(apps[name], await messages(perRound))
}
const warmUpCalls = { before: { ...calls.before }, after: { ...calls.after } }

const results: Record<'before' | 'after', Round[]> = { before: [], after: [] }
for (let r = 0; r < rounds; r++) {
  const order = r % 2 === 0 ? (['before', 'after'] as const) : (['after', 'before'] as const)
  for (const name of order) {
    const measured = await round(apps[name], await messages(perRound))
    results[name].push(measured)
    console.error(
      `round ${r + 1} ${name}: ${measured.cpuMicros.toFixed(1)} µs CPU, ${measured.wallMicros.toFixed(1)} µs wall`,
    )
  }
}
for (const fastify of Object.values(apps)) await fastify.close()

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}
const quantile = (values: readonly number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
}
const sum = (list: readonly Round[]) => list.reduce((total, x) => total + x.cpuMicros, 0)
const ratios = results.after.map((after, i) => after.cpuMicros / results.before[i]!.cpuMicros)
const env = environment()
const row = (name: 'before' | 'after') =>
  `| ${name} | ${median(results[name].map((x) => x.cpuMicros)).toFixed(1)} | ${median(
    results[name].map((x) => x.wallMicros),
  ).toFixed(1)} | ${results[name].map((x) => x.cpuMicros.toFixed(0)).join(', ')} |`
const measuredRequests = rounds * perRound
const callsPerRequest = (name: 'before' | 'after') =>
  Object.keys({ ...calls.before, ...calls.after })
    .sort()
    .map((call) => {
      const n = (calls[name][call] ?? 0) - (warmUpCalls[name][call] ?? 0)
      return `${call} ${(n / measuredRequests).toFixed(2)}`
    })
    .join(', ')
console.log(`# @better-auth/fastify access path, before/after (app.inject POST /foo/bar, no socket)

- date: ${env.date}; node ${env.node}, OpenSSL ${env.openssl}; ${env.cpu} × ${env.cpuCount}; load ${env.loadAverage.toFixed(2)}
- ${rounds} rounds per build of ${perRound} requests, alternating (ABBA), after ${warmUp} warm-up requests each

| build | CPU µs/req (median) | wall µs/req (median) | CPU µs/req per round |
| --- | --: | --: | --- |
${row('before')}
${row('after')}

after ÷ before, CPU per round: median ${median(ratios).toFixed(3)} (quartiles ${quantile(ratios, 0.25).toFixed(3)}–${quantile(ratios, 0.75).toFixed(3)}, range ${Math.min(...ratios).toFixed(3)}–${Math.max(...ratios).toFixed(3)}); total CPU after ÷ before ${(sum(results.after) / sum(results.before)).toFixed(3)}

crypto-suite calls per request:
- before: ${callsPerRequest('before')}
- after: ${callsPerRequest('after')}
`)
console.error(
  `wrote ${writeResults('fastify-ab', {
    environment: env,
    rounds,
    perRound,
    beforePath,
    results,
    ratios,
    calls,
  })}`,
)
