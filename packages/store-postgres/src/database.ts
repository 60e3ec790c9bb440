import { StorageUnavailableError } from '@better-auth/protocol'
import type { Pool, PoolClient, QueryResult, QueryResultRow } from 'pg'
import { BACKEND, settle } from './errors.js'

/** The part of a pool or checked-out client that the stores use. */
export interface Queryable {
  query<R extends QueryResultRow>(text: string, values?: unknown[]): Promise<QueryResult<R>>
}

/**
 * The pool the stores share, with the schema every statement names explicitly (statements never
 * rely on `search_path`, so a pool shared with other code cannot redirect them).
 */
export class Database {
  readonly #pool: Pool
  /** The quoted schema name, ready to prefix table names. */
  readonly schema: string
  #closed = false

  constructor(pool: Pool, quotedSchema: string) {
    this.#pool = pool
    this.schema = quotedSchema
  }

  get closed(): boolean {
    return this.#closed
  }

  markClosed(): void {
    this.#closed = true
  }

  /** One statement on any pooled connection; it is its own transaction. */
  query<R extends QueryResultRow>(text: string, values: unknown[]): Promise<QueryResult<R>> {
    return settle(() => {
      this.#assertOpen()
      return this.#pool.query<R>(text, values)
    })
  }

  /**
   * Runs `work` inside BEGIN … COMMIT on one connection. Any error (the contract's own, used to
   * abort, or a failure of the backend) rolls everything back. When the connection itself broke,
   * the ROLLBACK fails too and the client is destroyed rather than returned to the pool; the
   * server then aborts the transaction when it notices the closed socket, so nothing is ever
   * half-applied.
   */
  transaction<T>(work: (client: Queryable) => Promise<T>): Promise<T> {
    return settle(async () => {
      this.#assertOpen()
      const client = await this.#pool.connect()
      // A checked-out client emits 'error' when its socket dies between two of our queries;
      // with no listener that would crash the process. The failure still reaches us as the
      // rejection of the next query, so the listener needs to do nothing.
      const ignore = (): void => undefined
      client.on('error', ignore)
      let broken: unknown
      try {
        await client.query('BEGIN')
        const result = await work(client)
        await client.query('COMMIT')
        return result
      } catch (error) {
        broken = await rollback(client)
        throw error
      } finally {
        client.removeListener('error', ignore)
        // Passing an error makes the pool discard the connection instead of reusing it.
        client.release(broken === undefined ? undefined : toError(broken))
      }
    })
  }

  #assertOpen(): void {
    if (this.#closed) throw new StorageUnavailableError(BACKEND, new Error('the stores are closed'))
  }
}

async function rollback(client: PoolClient): Promise<unknown> {
  try {
    await client.query('ROLLBACK')
    return undefined
  } catch (error) {
    return error
  }
}

function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error('connection failed')
}
