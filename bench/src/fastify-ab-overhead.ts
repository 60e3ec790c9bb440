// The fastify plugin's own cost on an access route, two builds side by side (see fastify-ab.ts),
// with verification and signing stubbed out: what is left is fastify, inject and the plugin's
// body handling and hooks, without the crypto whose cost dwarfs them and swings with the load.
//
//   FASTIFY_BEFORE=/path/to/checkout/packages/fastify/src/index.ts (required)
//   FASTIFY_AB_ROUNDS=20, FASTIFY_AB_REQUESTS=3000 (per round)
//   FASTIFY_AB_DEFER=1: the stubs settle one event-loop turn later (setImmediate), as the Node
//   crypto backend's batched verify and sign do, instead of at once
import { loadavg } from 'node:os'
import { pathToFileURL } from 'node:url'
import Fastify, { type FastifyInstance, type FastifyPluginAsync } from 'fastify'
const beforePath = process.env.FASTIFY_BEFORE
if (beforePath === undefined) throw new Error('FASTIFY_BEFORE must name the other build')
type Plugin = FastifyPluginAsync<Record<string, unknown>>
const load = async (p: string) => ((await import(p)) as { betterAuth: Plugin }).betterAuth
const builds = {
  before: await load(pathToFileURL(beforePath).href),
  after: await load(new URL('../../packages/fastify/src/index.ts', import.meta.url).href),
}
const rounds = Number(process.env.FASTIFY_AB_ROUNDS ?? 20)
const perRound = Number(process.env.FASTIFY_AB_REQUESTS ?? 3000)
const settle: <T>(value: T) => Promise<T> =
  process.env.FASTIFY_AB_DEFER === '1'
    ? (value) => new Promise((resolve) => setImmediate(() => resolve(value)))
    : (value) => Promise.resolve(value)
const message = JSON.stringify({
  payload: {
    access: { nonce: 'n'.repeat(24), timestamp: new Date().toISOString(), token: 'T'.repeat(600) },
    request: { foo: 'foo-value', bar: 'bar-value' },
  },
  signature: 'S'.repeat(88),
})
// Stubs: what the plugin adds around verification and signing, without the crypto.
const accessVerifier = {
  verify: (m: string) =>
    settle({
      request: (JSON.parse(m) as { payload: { request: unknown } }).payload.request,
      token: {},
      nonce: 'n',
    }),
  answers: false,
}
const server = {
  handle: () => Promise.resolve(''),
  accessResponse: () => settle('{"payload":{}}'),
  responsePublicKey: () => Promise.resolve('k'),
}
async function app(plugin: Plugin): Promise<FastifyInstance> {
  const f = Fastify()
  await f.register(plugin, { server, accessVerifier })
  f.post('/foo/bar', { config: { betterAuth: 'access' } }, (request) => ({
    got: request.body as string,
  }))
  await f.ready()
  return f
}
const apps = { before: await app(builds.before), after: await app(builds.after) }
async function round(f: FastifyInstance, n: number) {
  const cpu = process.cpuUsage()
  for (let i = 0; i < n; i++) {
    const r = await f.inject({
      method: 'POST',
      url: '/foo/bar',
      payload: message,
      headers: { 'content-type': 'application/json' },
    })
    if (r.statusCode !== 200) throw new Error(r.body)
  }
  const { user, system } = process.cpuUsage(cpu)
  return (user + system) / n
}
for (const k of ['before', 'after'] as const) await round(apps[k], 5000)
type Build = 'before' | 'after'
const res: Record<Build, number[]> = { before: [], after: [] }
for (let r = 0; r < rounds; r++) {
  const order: readonly Build[] = r % 2 === 1 ? ['after', 'before'] : ['before', 'after']
  for (const k of order) res[k].push(await round(apps[k], perRound))
}
const med = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!
const ratios = res.after.map((a, i) => a / res.before[i]!)
const total = (list: number[]) => list.reduce((sum, x) => sum + x, 0)
console.log(
  `CPU µs/request, median of ${rounds} rounds of ${perRound}: before ${med(res.before).toFixed(1)}, after ${med(res.after).toFixed(1)}; after ÷ before per round: median ${med(ratios).toFixed(3)} (${Math.min(...ratios).toFixed(3)}–${Math.max(...ratios).toFixed(3)}), total ${(total(res.after) / total(res.before)).toFixed(3)}; load ${loadavg()[0]!.toFixed(2)}`,
)
