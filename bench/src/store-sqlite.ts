// SQLite store microbenchmarks: the store operations the example server runs per request, in one
// process on a WAL file, so that SQLite drivers can be compared side by side (run it once per
// Node version or driver). `BENCH_TIME_MS` per case, `BENCH_SMOKE=1` for a quick check.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SqliteStores } from '@better-auth/store-sqlite'
import type { BenchCase } from './harness.js'
import { environment, settingsFromEnv, writeResults } from './harness.js'

const settings = settingsFromEnv()
const dir = mkdtempSync(join(tmpdir(), 'better-auth-bench-sqlite-'))
const stores = SqliteStores.open({ filename: join(dir, 'auth.db') })
const backend = `sqlite, node ${process.version}`
const identity = 'E'.padEnd(44, 'i')
const device = 'E'.padEnd(44, 'd')
const publicKey = '1'.padEnd(44, 'k')
const now = Date.now()

function fail(what: string): never {
  throw new Error(`benchmark sanity check failed: ${what}`)
}

await stores.authenticationKey.registerIdentity({
  identity,
  device,
  publicKey,
  rotationHash: 'hash-0',
})

let sequence = 0
let rotation = 0
const cases: BenchCase[] = [
  {
    // The single-use check of every access request (`/foo/bar`): one fresh value per call.
    op: 'accessNonce.reserve',
    backend,
    run: async () => {
      sequence += 1
      if (!(await stores.accessNonce.reserve(`nonce-${sequence}`, now + 60_000, now))) {
        fail('a fresh nonce was refused')
      }
    },
  },
  {
    op: 'authenticationKey.publicKey',
    backend,
    run: async () => {
      if ((await stores.authenticationKey.publicKey(identity, device)) !== publicKey) {
        fail('wrong public key')
      }
    },
  },
  {
    // The compare-and-set of `/device/rotate`.
    op: 'authenticationKey.rotate',
    backend,
    run: async () => {
      rotation += 1
      await stores.authenticationKey.rotate(
        { identity, device, publicKey, rotationHash: `hash-${rotation}` },
        `hash-${rotation - 1}`,
      )
    },
  },
  {
    // A challenge issued by `/session/request` and consumed by `/session/create`.
    op: 'authenticationNonce.put + consume',
    backend,
    run: async () => {
      sequence += 1
      const nonce = `challenge-${sequence}`
      await stores.authenticationNonce.put(nonce, identity, now + 60_000, now)
      if ((await stores.authenticationNonce.consume(nonce, now)) !== identity) {
        fail('the challenge was not returned')
      }
    },
  },
]

/** CPU and wall time per operation, the median of `rounds` rounds of `count` operations each. */
async function measure(benchCase: BenchCase, count: number, rounds: number) {
  const cpu: number[] = []
  const wall: number[] = []
  for (let i = 0; i < count; i += 1) await benchCase.run()
  for (let round = 0; round < rounds; round += 1) {
    const cpuBefore = process.cpuUsage()
    const wallBefore = performance.now()
    for (let i = 0; i < count; i += 1) await benchCase.run()
    const used = process.cpuUsage(cpuBefore)
    wall.push(((performance.now() - wallBefore) * 1000) / count)
    cpu.push((used.user + used.system) / count)
  }
  const median = (values: number[]) => values.sort((a, b) => a - b)[values.length >> 1] ?? NaN
  return {
    op: benchCase.op,
    backend: benchCase.backend,
    cpuMicrosecondsPerOp: median(cpu),
    wallMicrosecondsPerOp: median(wall),
  }
}

// CPU time, not wall time: on a shared machine the wall clock measures the neighbours.
const env = environment()
const count = settings.smoke ? 200 : 5_000
const rounds = settings.smoke ? 1 : 5
console.error(`running ${cases.length} cases, ${rounds} rounds of ${count} operations each…`)
const results = []
for (const benchCase of cases) results.push(await measure(benchCase, count, rounds))
await stores.close()
rmSync(dir, { recursive: true, force: true })

const rows = results.map(
  (r) =>
    `| ${r.op} | ${r.backend} | ${r.cpuMicrosecondsPerOp.toFixed(1)} | ${r.wallMicrosecondsPerOp.toFixed(1)} |`,
)
console.log(`# SQLite store microbenchmarks

- date: ${env.date}
- node: ${env.node}, ${env.platform}
- cpu: ${env.cpu} × ${env.cpuCount}, load average at start ${env.loadAverage.toFixed(2)}
- ${rounds} rounds of ${count} operations per case (median)${settings.smoke ? ' (smoke run: numbers are rough)' : ''}

| op | backend | CPU µs/op | wall µs/op |
| --- | --- | --: | --: |
${rows.join('\n')}
`)
const file = writeResults(`store-sqlite-${process.version}`, {
  environment: env,
  count,
  rounds,
  results,
})
console.error(`wrote ${file}`)
