import { execFile } from 'node:child_process'
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)
const SERVICES = fileURLToPath(new URL('../../../../scripts/services.sh', import.meta.url))

/**
 * A PostgreSQL server of the test's own, started by scripts/services.sh with a state file of its
 * own, so that freezing it touches no other test's server (and never a system one).
 */
export interface ThrowawayPostgres {
  readonly url: string
  /** Stops (SIGSTOP) or resumes (SIGCONT) the postmaster and every process it started. */
  signal(signal: 'SIGSTOP' | 'SIGCONT'): Promise<void>
  /** Resumes it if frozen, stops it and deletes its data. */
  stop(): Promise<void>
}

export async function startThrowawayPostgres(): Promise<ThrowawayPostgres> {
  const stateDir = await mkdtemp(join(tmpdir(), 'better-auth-frozen-'))
  const env = { ...process.env, BETTER_AUTH_SERVICES_STATE: join(stateDir, 'services.env') }
  await run('bash', [SERVICES, 'start', 'postgres'], { env })
  const state = await readFile(env.BETTER_AUTH_SERVICES_STATE, 'utf8')
  const value = (name: string): string => {
    const match = new RegExp(`^${name}=(.*)$`, 'm').exec(state)
    if (match?.[1] === undefined) throw new Error(`scripts/services.sh did not record ${name}`)
    return match[1]
  }
  const url = value('DATABASE_URL')
  const postmasterPid = Number(
    (await readFile(join(value('PG_DIR'), 'data', 'postmaster.pid'), 'utf8')).split('\n')[0],
  )
  const signal = async (name: 'SIGSTOP' | 'SIGCONT'): Promise<void> => {
    for (const pid of [postmasterPid, ...(await descendants(postmasterPid))]) {
      try {
        process.kill(pid, name)
      } catch {
        // A backend that exited meanwhile.
      }
    }
  }
  return {
    url,
    signal,
    async stop() {
      await signal('SIGCONT')
      await run('bash', [SERVICES, 'stop'], { env })
      await rm(stateDir, { recursive: true, force: true })
    },
  }
}

/** Every process below `root`, read from /proc (Linux). */
async function descendants(root: number): Promise<number[]> {
  const parents = new Map<number, number>()
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8')
      // The command name may hold spaces and parentheses: the fields after the last ')' are
      // state, then the parent's pid.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      parents.set(Number(entry), ppid)
    } catch {
      // The process ended while we looked.
    }
  }
  const found: number[] = []
  const queue = [root]
  while (queue.length > 0) {
    const parent = queue.shift()!
    for (const [pid, ppid] of parents) {
      if (ppid === parent) {
        found.push(pid)
        queue.push(pid)
      }
    }
  }
  return found
}
