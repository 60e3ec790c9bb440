import { BetterAuthError } from '@better-auth/protocol'
import {
  DatabaseError,
  type Pool,
  type QueryConfig,
  type QueryResult,
  type QueryResultRow,
} from 'pg'
import { postgres, settle } from './errors.js'

/** The part of a pool or checked-out client that the stores use. */
export interface Queryable {
  query<R extends QueryResultRow>(text: string, values?: unknown[]): Promise<QueryResult<R>>
}

/**
 * The pool the stores share, with the schema every statement names explicitly (statements never
 * rely on `search_path`, so a pool shared with other code cannot redirect them).
 *
 * Every statement carries a client-side timeout (pg's `query_timeout`): a server that is frozen,
 * or a network that drops packets silently, never answers, and a server-side `statement_timeout`
 * cannot fire there. The statement then fails as StorageUnavailableError after `queryTimeoutMs`
 * and its connection is discarded, since its reply may still arrive.
 */
export class Database {
  readonly #pool: Pool
  readonly #queryTimeoutMs: number
  /** The quoted schema name, ready to prefix table names. */
  readonly schema: string
  #closed = false
  #ping: Promise<void> | undefined

  constructor(pool: Pool, quotedSchema: string, queryTimeoutMs: number) {
    this.#pool = pool
    this.schema = quotedSchema
    this.#queryTimeoutMs = queryTimeoutMs
  }

  #timed(text: string, values?: unknown[]): QueryConfig {
    // query_timeout is read per query by pg's Client, but @types/pg does not declare it there.
    const config: QueryConfig & { query_timeout: number } = {
      text,
      values,
      query_timeout: this.#queryTimeoutMs,
    }
    return config
  }

  get closed(): boolean {
    return this.#closed
  }

  markClosed(): void {
    this.#closed = true
  }

  /**
   * One `SELECT 1` round trip, shared by the callers that ask while it is in flight: a readiness
   * probe that pings every store costs one pooled connection, not one per store.
   */
  ping(): Promise<void> {
    this.#ping ??= this.query('SELECT 1', [])
      .then(() => undefined)
      .finally(() => {
        this.#ping = undefined
      })
    return this.#ping
  }

  /** One statement on any pooled connection; it is its own transaction. */
  query<R extends QueryResultRow>(text: string, values: unknown[]): Promise<QueryResult<R>> {
    return settle(() => {
      this.#assertOpen()
      return this.#pool.query<R>(this.#timed(text, values))
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
      const timed: Queryable = {
        query: <R extends QueryResultRow>(text: string, values?: unknown[]) =>
          client.query<R>(this.#timed(text, values)),
      }
      let broken: unknown
      try {
        await timed.query('BEGIN')
        const result = await work(timed)
        await timed.query('COMMIT')
        return result
      } catch (error) {
        // Only a reply from the server (or our own abort) leaves the connection able to roll back;
        // after a timeout or a socket error a ROLLBACK would wait behind the unanswered statement.
        broken = canRollBack(error) ? await rollback(timed) : error
        throw error
      } finally {
        client.removeListener('error', ignore)
        // Passing an error makes the pool discard the connection instead of reusing it.
        client.release(broken === undefined ? undefined : toError(broken))
      }
    })
  }

  #assertOpen(): void {
    if (this.#closed) throw postgres.closed()
  }
}

async function rollback(client: Queryable): Promise<unknown> {
  try {
    await client.query('ROLLBACK')
    return undefined
  } catch (error) {
    return error
  }
}

/**
 * After the contract's own abort (a BetterAuthError) or an error reply from the server, the
 * connection is idle and can roll back. After a timeout or a socket error it is not: a ROLLBACK
 * would queue behind the unanswered statement, so the connection is discarded instead and the
 * server aborts the transaction when it sees the socket close.
 */
function canRollBack(error: unknown): boolean {
  return error instanceof BetterAuthError || error instanceof DatabaseError
}

function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error('connection failed')
}
