/// <reference types="node" />
import { ConfigurationError } from '@better-auth/protocol'
import type { DatabaseSync } from 'node:sqlite'
import { wrap } from './driver.js'
import type * as Database from './driver.js'
import { toStoreError } from './errors.js'

interface Migration {
  readonly version: number
  readonly sql: string
}

/**
 * The schema, one step per version; `PRAGMA user_version` records the last step applied. Steps
 * are append-only: a released step is never edited, a change is a new step.
 *
 * - identities exist independently of their devices, so an identity whose devices are all
 *   revoked still exists, and devices keep a revoked row so that a device id is never reused.
 * - recovery hashes have their own table: the recovery store is a separate interface and its
 *   rows are written before the identity's first device.
 * - expiring rows carry `expires_at` in epoch milliseconds with an index, so sweeping is a range
 *   delete; access key hashes and access nonces share one table under different namespaces.
 * - account events are append-only rows ordered by `sequence`, outliving their identity.
 * - rate-limit counters (version 3) are keyed by the limiter's keyed hashes, never raw addresses
 *   or identities, and swept like the other expiring rows once their window ended.
 * - webhook delivery state (version 4): a cursor per endpoint, the pending deliveries with the
 *   event as JSON (the log may erase it meanwhile; the delivery still carries what happened), and
 *   the dead letters in the order they died.
 */
const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE identities (
        identity TEXT PRIMARY KEY NOT NULL
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE devices (
        identity TEXT NOT NULL REFERENCES identities (identity) ON DELETE CASCADE,
        device TEXT NOT NULL,
        public_key TEXT NOT NULL,
        rotation_hash TEXT NOT NULL,
        active INTEGER NOT NULL CHECK (active IN (0, 1)),
        PRIMARY KEY (identity, device)
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE recovery_hashes (
        identity TEXT PRIMARY KEY NOT NULL,
        recovery_hash TEXT NOT NULL
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE authentication_nonces (
        nonce TEXT PRIMARY KEY NOT NULL,
        identity TEXT NOT NULL,
        expires_at INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX authentication_nonces_expires_at ON authentication_nonces (expires_at);

      CREATE TABLE time_locks (
        namespace TEXT NOT NULL,
        value TEXT NOT NULL,
        expires_at INTEGER NOT NULL,
        PRIMARY KEY (namespace, value)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX time_locks_expires_at ON time_locks (expires_at);
    `,
  },
  {
    // The account event log: no reference to identities, so a deleted account keeps its history.
    // AUTOINCREMENT: a sequence is never reused, not even after the newest events are erased.
    version: 2,
    sql: `
      CREATE TABLE account_events (
        sequence INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        type TEXT NOT NULL,
        at INTEGER NOT NULL,
        identity TEXT NOT NULL,
        device TEXT NOT NULL,
        public_key TEXT,
        rotation_hash TEXT,
        nonce TEXT,
        target_device TEXT,
        target_public_key TEXT,
        target_rotation_hash TEXT
      ) STRICT;
      CREATE INDEX account_events_identity ON account_events (identity, sequence);
    `,
  },
  {
    version: 3,
    sql: `
      CREATE TABLE rate_limits (
        key TEXT PRIMARY KEY NOT NULL,
        count INTEGER NOT NULL,
        reset_at INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX rate_limits_reset_at ON rate_limits (reset_at);
    `,
  },
  {
    // The key set the processes share: the log in one row (only a longer log replaces it), and
    // the endorsements. Only signed public material, verified by every reader.
    version: 4,
    sql: `
      CREATE TABLE key_set_chain (
        singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
        length INTEGER NOT NULL,
        events TEXT NOT NULL
      ) STRICT;
      CREATE TABLE key_set_endorsements (
        endorsement TEXT PRIMARY KEY,
        expires_at INTEGER NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 5,
    sql: `
      CREATE TABLE webhook_cursors (
        endpoint TEXT PRIMARY KEY NOT NULL,
        cursor INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE webhook_deliveries (
        endpoint TEXT NOT NULL,
        sequence INTEGER NOT NULL,
        event TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        next_attempt_at INTEGER NOT NULL,
        PRIMARY KEY (endpoint, sequence)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX webhook_deliveries_due
        ON webhook_deliveries (next_attempt_at, sequence, endpoint);

      CREATE TABLE webhook_dead_letters (
        position INTEGER PRIMARY KEY AUTOINCREMENT,
        endpoint TEXT NOT NULL,
        sequence INTEGER NOT NULL,
        event TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        last_error TEXT NOT NULL,
        dead_at INTEGER NOT NULL
      ) STRICT;
    `,
  },
]

/** The schema version this library writes and understands. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0

function userVersion(db: Database.Database): number {
  const version = db.pragma('user_version')
  return typeof version === 'number' ? version : 0
}

/**
 * Brings the schema up to date. Idempotent: applied steps are skipped. Each step runs in an
 * immediate transaction that re-reads the version after taking the write lock, so two processes
 * opening a fresh file at once apply every step exactly once. A database written by a newer
 * version of this library is refused (ConfigurationError) rather than used with a schema this
 * code does not know.
 */
export function migrate(db: Database.Database): void {
  try {
    if (userVersion(db) === SCHEMA_VERSION) return
    for (const migration of MIGRATIONS) {
      db.transaction(() => {
        const current = userVersion(db)
        if (current > SCHEMA_VERSION) {
          throw new ConfigurationError(
            'database',
            `schema version ${current} is newer than the supported ${SCHEMA_VERSION}`,
          )
        }
        if (current >= migration.version) return
        db.exec(migration.sql)
        // PRAGMA takes no bound parameters; the version is a number from the table above.
        db.pragma(`user_version = ${migration.version}`)
      }).immediate()
    }
  } catch (error) {
    throw toStoreError(error)
  }
}

/** `migrate` for a `node:sqlite` connection the caller opened (the package's public `migrate`). */
export function migrateConnection(db: DatabaseSync): void {
  migrate(wrap(db))
}
