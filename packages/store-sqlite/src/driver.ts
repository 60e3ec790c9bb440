/// <reference types="node" />
import { DatabaseSync, type SQLInputValue } from 'node:sqlite'

/**
 * The SQLite driver, kept to the few calls the stores make, on Node's built-in `node:sqlite`
 * (see the README for why not a native module). Like `DatabaseSync` it is synchronous: a check
 * and a write in one call never interleave with another call in this process.
 */
export interface Database {
  /** False once closed. */
  readonly open: boolean
  prepare<P extends unknown[] = unknown[], R = unknown>(sql: string): Statement<P, R>
  /** Runs one or more statements without parameters. */
  exec(sql: string): void
  /** Runs a PRAGMA and returns the first column of its first row, if any. */
  pragma(source: string): unknown
  /** Wraps `operation` in a transaction; see {@link Transaction}. */
  transaction<A extends unknown[], T>(operation: (...args: A) => T): Transaction<A, T>
  close(): void
}

export interface Statement<P extends unknown[] = unknown[], R = unknown> {
  run(...params: P): { readonly changes: number }
  /** The first row, or undefined; a `… RETURNING` statement completes all its changes. */
  get(...params: P): R | undefined
  all(...params: P): R[]
}

/**
 * Calling it runs the operation in a deferred transaction, `immediate` in an immediate one (the
 * write lock taken before the first read). A throw rolls back and is rethrown. Called inside
 * another transaction it runs in a savepoint, so an inner failure undoes only its own writes.
 */
export interface Transaction<A extends unknown[], T> {
  (...args: A): T
  immediate(...args: A): T
}

/** Opens (creating when missing) a database file, or a private one for ':memory:'. */
export function openDatabase(filename: string): Database {
  return wrap(new DatabaseSync(filename))
}

/** The driver's view of a connection the caller opened. */
export function wrap(db: DatabaseSync): Database {
  let closed = false
  // The transaction depth is tracked here rather than read from `db.isTransaction`, which
  // Node 22.13 does not have; every transaction on this connection goes through `run` below.
  let depth = 0

  function inTransaction<T>(begin: string, operation: () => T): T {
    const savepoint = depth > 0 ? `better_auth_${depth}` : undefined
    db.exec(savepoint === undefined ? begin : `SAVEPOINT ${savepoint}`)
    depth += 1
    let result: T
    try {
      result = operation()
    } catch (error) {
      depth -= 1
      rollback(savepoint)
      throw error
    }
    depth -= 1
    try {
      db.exec(savepoint === undefined ? 'COMMIT' : `RELEASE ${savepoint}`)
    } catch (error) {
      rollback(savepoint)
      throw error
    }
    return result
  }

  function rollback(savepoint: string | undefined): void {
    try {
      db.exec(
        savepoint === undefined ? 'ROLLBACK' : `ROLLBACK TO ${savepoint}; RELEASE ${savepoint}`,
      )
    } catch {
      // SQLite already rolled back (e.g. after SQLITE_FULL); the original error is what matters.
    }
  }

  return {
    get open() {
      return !closed
    },
    prepare<P extends unknown[], R>(sql: string): Statement<P, R> {
      const statement = db.prepare(sql)
      return {
        run: (...params) => {
          const { changes } = statement.run(...(params as SQLInputValue[]))
          return { changes: Number(changes) }
        },
        get: (...params) => statement.get(...(params as SQLInputValue[])) as R | undefined,
        all: (...params) => statement.all(...(params as SQLInputValue[])) as R[],
      }
    },
    exec: (sql) => db.exec(sql),
    pragma(source) {
      const row = db.prepare(`PRAGMA ${source}`).get()
      return row === undefined ? undefined : Object.values(row)[0]
    },
    transaction<A extends unknown[], T>(operation: (...args: A) => T): Transaction<A, T> {
      const deferred = (...args: A) => inTransaction('BEGIN', () => operation(...args))
      return Object.assign(deferred, {
        immediate: (...args: A) => inTransaction('BEGIN IMMEDIATE', () => operation(...args)),
      })
    },
    close() {
      if (closed) return
      db.close()
      closed = true
    },
  }
}
