import { ConfigurationError } from '@better-auth/protocol'
import { ReplyError, type Redis } from 'ioredis'

/** Where the stores report a risk the application accepted. */
export interface PersistenceLogger {
  warn(message: string): void
}

/**
 * Refuses a server that would forget the replay state on a restart: spent access nonces and
 * spent access keys would be accepted again, silently. Unless `acceptRisk`, then the risk is
 * logged once. Durable enough means the append-only file is on and is fsynced at least every
 * second (`appendfsync everysec` or `always`); RDB snapshots alone lose everything written since
 * the last one when Redis stops without saving.
 */
export async function checkPersistence(
  servers: readonly Redis[],
  acceptRisk: boolean,
  logger: PersistenceLogger,
): Promise<void> {
  const risk = await firstRisk(servers)
  if (risk === undefined) return
  if (!acceptRisk) {
    throw new ConfigurationError(
      'redis',
      `${risk}, so spent access nonces and refresh keys would be forgotten when Redis restarts and replays accepted; configure appendonly yes with appendfsync everysec (see the README), or pass acceptReplayStateLoss: true`,
    )
  }
  logger.warn(
    `@better-auth/store-redis: ${risk}: spent access nonces and refresh keys are forgotten when Redis restarts, and replays of them accepted (acceptReplayStateLoss is set)`,
  )
}

/** The first server's risk, naming the server when there are several (a cluster's masters). */
async function firstRisk(servers: readonly Redis[]): Promise<string | undefined> {
  for (const server of servers) {
    const risk = await persistenceRisk(server)
    if (risk === undefined) continue
    if (servers.length === 1) return risk
    const { host, port } = server.options
    return `${risk} on the cluster node ${host ?? ''}:${port ?? ''}`
  }
  return undefined
}

/** Why the replay state may not survive a restart, or undefined when it will. */
async function persistenceRisk(client: Redis): Promise<string | undefined> {
  const config = await configGet(client, 'append*')
  if (config !== undefined) {
    if (config.get('appendonly') !== 'yes') return 'the append-only file is off (appendonly no)'
    const fsync = config.get('appendfsync')
    if (fsync !== 'everysec' && fsync !== 'always') {
      return `the append-only file is not fsynced every second (appendfsync ${fsync ?? 'unknown'})`
    }
    return undefined
  }
  // CONFIG is often disabled on managed servers; INFO still says whether AOF is on, though not
  // how often it is fsynced.
  const info = await infoPersistence(client)
  const enabled = info === undefined ? null : /^aof_enabled:(\d)/m.exec(info)
  if (enabled === null)
    return 'the persistence settings cannot be read (CONFIG GET and INFO persistence are refused)'
  return enabled[1] === '1' ? undefined : 'the append-only file is off (aof_enabled:0)'
}

/** CONFIG GET as a map, or undefined when the server refuses the command (disabled, or ACL). */
async function configGet(client: Redis, pattern: string): Promise<Map<string, string> | undefined> {
  let reply: unknown
  try {
    reply = await client.config('GET', pattern)
  } catch (error) {
    if (error instanceof ReplyError) return undefined
    throw error
  }
  const settings = new Map<string, string>()
  if (Array.isArray(reply)) {
    for (let index = 0; index + 1 < reply.length; index += 2) {
      settings.set(String(reply[index]), String(reply[index + 1]))
    }
  }
  return settings
}

async function infoPersistence(client: Redis): Promise<string | undefined> {
  try {
    return await client.info('persistence')
  } catch (error) {
    if (error instanceof ReplyError) return undefined
    throw error
  }
}
