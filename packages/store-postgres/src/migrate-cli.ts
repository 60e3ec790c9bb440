import { BetterAuthError } from '@better-auth/protocol'
import { Pool } from 'pg'
import { DEFAULT_SCHEMA, migrate } from './migrations.js'

export interface CliIo {
  readonly out: (line: string) => void
  readonly err: (line: string) => void
}

const USAGE = `Usage: better-auth-postgres-migrate [--schema NAME]

Creates or upgrades the better-auth tables in the database named by the DATABASE_URL
environment variable (postgres://user:password@host:port/database). The schema defaults to
'${DEFAULT_SCHEMA}'. Safe to run again, and from several processes at once.`

/**
 * The migration command, apart from process globals so it can be tested. Returns the exit code.
 * Errors are reported by class and code only: neither the URL nor the driver's messages (which
 * may name hosts or users) are printed.
 */
export async function main(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  io: CliIo,
): Promise<number> {
  let schema = DEFAULT_SCHEMA
  for (let index = 0; index < args.length; index++) {
    const arg = args[index]
    if (arg === '--help' || arg === '-h') {
      io.out(USAGE)
      return 0
    }
    const value = args[index + 1]
    if (arg === '--schema' && value !== undefined) {
      schema = value
      index++
    } else {
      io.err(USAGE)
      return 2
    }
  }
  const connectionString = env.DATABASE_URL
  if (connectionString === undefined || connectionString === '') {
    io.err('better-auth-postgres-migrate: DATABASE_URL is not set')
    return 2
  }
  const pool = new Pool({ connectionString, max: 1, connectionTimeoutMillis: 10_000 })
  pool.on('error', () => undefined)
  try {
    const version = await migrate(pool, schema)
    io.out(`better-auth-postgres-migrate: schema ${schema} is at version ${version}`)
    return 0
  } catch (error) {
    const reason =
      error instanceof BetterAuthError
        ? `${error.name} (${error.code}): ${error.message}`
        : 'failed'
    io.err(`better-auth-postgres-migrate: ${reason}`)
    return 1
  } finally {
    await pool.end().catch(() => undefined)
  }
}
