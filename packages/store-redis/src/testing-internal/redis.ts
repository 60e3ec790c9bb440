import { randomId } from '@better-auth/server/testing'
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis'
import { createServer } from 'node:net'

/** The server the e2e suites run against; unset means they are skipped. */
export const REDIS_URL = process.env.REDIS_URL ?? ''

const SKIP_REASON =
  'REDIS_URL is not set: start Redis with scripts/services.sh (bash scripts/test.sh does)'

/** A suite's name, carrying the reason it is skipped when there is no server to run against. */
export function e2e(name: string): string {
  return REDIS_URL ? name : `${name} [skipped: ${SKIP_REASON}]`
}

/**
 * The masters of the three-master Redis Cluster the cluster suites run against, as `host:port`
 * (scripts/services.sh starts one); empty means they are skipped.
 */
export const REDIS_CLUSTER_NODES = (process.env.REDIS_CLUSTER_NODES ?? '')
  .split(',')
  .filter((node) => node !== '')

const CLUSTER_SKIP_REASON =
  'REDIS_CLUSTER_NODES is not set: start a cluster with scripts/services.sh start redis-cluster (bash scripts/test.sh does)'

/** A cluster suite's name, carrying the reason it is skipped when there is no cluster. */
export function e2eCluster(name: string): string {
  return REDIS_CLUSTER_NODES.length > 0 ? name : `${name} [skipped: ${CLUSTER_SKIP_REASON}]`
}

/** A cluster client for tests, knowing every master, quiet about dropped connections. */
export function testCluster(options: ClusterOptions = {}): Cluster {
  const nodes = REDIS_CLUSTER_NODES.map((node) => {
    const [host, port] = node.split(':')
    return { host: host!, port: Number(port) }
  })
  const cluster = new Cluster(nodes, options)
  cluster.on('error', () => undefined)
  return cluster
}

/** A key prefix no other test file uses, so files running in parallel never share keys. */
export function uniquePrefix(label: string): string {
  return `better-auth-test:${label}:${randomId().slice(0, 12)}:`
}

/** A client for tests, with an error listener so that a dropped connection stays quiet. */
export function testClient(options: RedisOptions = {}, url = REDIS_URL): Redis {
  const client = new Redis(url, options)
  client.on('error', () => undefined)
  return client
}

/** A free port on 127.0.0.1 that nothing listens on (it was bound and released). */
export function unusedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() =>
        typeof address === 'object' && address !== null
          ? resolve(address.port)
          : reject(new Error('no TCP address')),
      )
    })
  })
}
