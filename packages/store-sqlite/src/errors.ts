import { storageBackend } from '@better-auth/protocol'
import type { Database } from './driver.js'

/**
 * The contract's errors pass through; anything SQLite throws means the backend failed
 * (StorageUnavailableError naming 'sqlite'). node:sqlite is synchronous, so the check and the
 * write inside an operation given to `settle` never interleave with another call in this
 * process; across processes SQLite's locks serialise them.
 */
export const { settle, failure: toStoreError } = storageBackend('sqlite')

/** A store's `ping`: one `SELECT 1` on the connection, StorageUnavailableError once it is closed. */
export function pinger(db: Database): () => Promise<void> {
  return () =>
    settle(() => {
      db.prepare('SELECT 1').get()
    })
}
