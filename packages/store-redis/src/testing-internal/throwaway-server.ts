import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)
const SERVICES = fileURLToPath(new URL('../../../../scripts/services.sh', import.meta.url))

/**
 * A Redis of the test's own, started by scripts/services.sh (so with the persistence settings it
 * recommends) with a state file of its own: restarting it disturbs no other test's server.
 */
export interface ThrowawayRedis {
  readonly url: string
  /** A plain restart: SIGTERM, then the same server on the same port with its data. */
  restart(): Promise<void>
  /** Stops it and deletes its data. */
  stop(): Promise<void>
}

export async function startThrowawayRedis(): Promise<ThrowawayRedis> {
  const stateDir = await mkdtemp(join(tmpdir(), 'better-auth-restart-'))
  const env = { ...process.env, BETTER_AUTH_SERVICES_STATE: join(stateDir, 'services.env') }
  await run('bash', [SERVICES, 'start', 'redis'], { env })
  const state = await readFile(env.BETTER_AUTH_SERVICES_STATE, 'utf8')
  const url = /^REDIS_URL=(.*)$/m.exec(state)?.[1]
  if (url === undefined) throw new Error('scripts/services.sh did not start Redis')
  return {
    url,
    async restart() {
      await run('bash', [SERVICES, 'restart', 'redis'], { env })
    },
    async stop() {
      await run('bash', [SERVICES, 'stop'], { env })
      await rm(stateDir, { recursive: true, force: true })
    },
  }
}
