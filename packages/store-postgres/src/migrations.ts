import { ConfigurationError } from '@better-auth/protocol'
import { escapeIdentifier, type Pool, type PoolClient } from 'pg'
import { settle, toStoreError } from './errors.js'

interface Migration {
  readonly version: number
  /** The step's DDL for a schema, given as an already quoted identifier. */
  readonly sql: (schema: string) => string
}

/**
 * The schema, one step per version; `<schema>.schema_migrations` records the steps applied.
 * Steps are append-only: a released step is never edited, a change is a new step.
 *
 * - identities exist independently of their devices, so an identity whose devices are all
 *   revoked still exists, and devices keep a revoked row so that a device id is never reused.
 *   The primary keys are the unique constraints on identity and on (identity, device).
 * - recovery hashes have their own table: the recovery store is a separate interface and its
 *   rows are written before the identity's first device.
 * - expiring rows carry `expires_at` in epoch milliseconds (BIGINT) with an index, so sweeping
 *   is a range delete; access key hashes and access nonces share one table under namespaces.
 * - account events are append-only rows ordered by `sequence`, outliving their identity.
 * - rate-limit counters (version 3) are keyed by the limiter's keyed hashes, never raw addresses
 *   or identities, and swept like the other expiring rows once their window ended.
 * - the shared key set (version 4) holds only signed public material, verified by every reader.
 * - webhook delivery state (version 5): a cursor per endpoint, the pending deliveries with the
 *   event as JSON (the log may erase it meanwhile; the delivery still carries what happened), and
 *   the dead letters in the order they died.
 */
const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: (s) => `
      CREATE TABLE ${s}.identities (
        identity TEXT PRIMARY KEY
      );
      CREATE TABLE ${s}.devices (
        identity TEXT NOT NULL REFERENCES ${s}.identities (identity) ON DELETE CASCADE,
        device TEXT NOT NULL,
        public_key TEXT NOT NULL,
        rotation_hash TEXT NOT NULL,
        active BOOLEAN NOT NULL,
        PRIMARY KEY (identity, device)
      );
      CREATE TABLE ${s}.recovery_hashes (
        identity TEXT PRIMARY KEY,
        recovery_hash TEXT NOT NULL
      );
      CREATE TABLE ${s}.authentication_nonces (
        nonce TEXT PRIMARY KEY,
        identity TEXT NOT NULL,
        expires_at BIGINT NOT NULL
      );
      CREATE INDEX authentication_nonces_expires_at ON ${s}.authentication_nonces (expires_at);
      CREATE TABLE ${s}.time_locks (
        namespace TEXT NOT NULL,
        value TEXT NOT NULL,
        expires_at BIGINT NOT NULL,
        PRIMARY KEY (namespace, value)
      );
      CREATE INDEX time_locks_expires_at ON ${s}.time_locks (expires_at);
    `,
  },
  {
    // The account event log: no reference to identities, so a deleted account keeps its history.
    version: 2,
    sql: (s) => `
      CREATE TABLE ${s}.account_events (
        sequence BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        type TEXT NOT NULL,
        at BIGINT NOT NULL,
        identity TEXT NOT NULL,
        device TEXT NOT NULL,
        public_key TEXT,
        rotation_hash TEXT,
        nonce TEXT,
        target_device TEXT,
        target_public_key TEXT,
        target_rotation_hash TEXT
      );
      CREATE INDEX account_events_identity ON ${s}.account_events (identity, sequence);
    `,
  },
  {
    version: 3,
    sql: (s) => `
      CREATE TABLE ${s}.rate_limits (
        key TEXT PRIMARY KEY,
        count INTEGER NOT NULL,
        reset_at BIGINT NOT NULL
      );
      CREATE INDEX rate_limits_reset_at ON ${s}.rate_limits (reset_at);
    `,
  },
  {
    // The key set the processes share: one row holding the key event log (a JSON array of the
    // signed events, with its length so that only a longer log replaces it), and endorsements.
    version: 4,
    sql: (s) => `
      CREATE TABLE ${s}.key_set_chain (
        singleton BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (singleton),
        length INTEGER NOT NULL,
        events TEXT NOT NULL
      );
      CREATE TABLE ${s}.key_set_endorsements (
        endorsement TEXT PRIMARY KEY,
        expires_at BIGINT NOT NULL
      );
    `,
  },
  {
    version: 5,
    sql: (s) => `
      CREATE TABLE ${s}.webhook_cursors (
        endpoint TEXT PRIMARY KEY,
        cursor BIGINT NOT NULL
      );
      CREATE TABLE ${s}.webhook_deliveries (
        endpoint TEXT NOT NULL,
        sequence BIGINT NOT NULL,
        event TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        next_attempt_at BIGINT NOT NULL,
        PRIMARY KEY (endpoint, sequence)
      );
      CREATE INDEX webhook_deliveries_due
        ON ${s}.webhook_deliveries (next_attempt_at, sequence, endpoint);
      CREATE TABLE ${s}.webhook_dead_letters (
        position BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        endpoint TEXT NOT NULL,
        sequence BIGINT NOT NULL,
        event TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        last_error TEXT NOT NULL,
        dead_at BIGINT NOT NULL
      );
    `,
  },
]

/** The schema version this library writes and understands. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0

export const DEFAULT_SCHEMA = 'better_auth'

// Unquoted-identifier rules, lower case only, within PostgreSQL's 63-byte limit: the name then
// means the same quoted or not, and cannot smuggle anything into the SQL it is spliced into.
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/

/** Validates a schema name and returns it quoted for SQL; ConfigurationError when invalid. */
export function quoteSchema(schema: unknown): string {
  if (typeof schema !== 'string' || !SCHEMA_NAME.test(schema) || schema.startsWith('pg_')) {
    throw new ConfigurationError(
      'schema',
      'must be 1 to 63 of a-z, 0-9 and _, not starting with a digit or pg_',
    )
  }
  return escapeIdentifier(schema)
}

// The first key of pg_advisory_xact_lock(int, int): "BAUT", so that our lock is unlikely to meet
// an application's own advisory locks; the second key is hashtext(schema).
const LOCK_CLASS = 0x42415554

/**
 * Brings `schema` (default 'better_auth') up to date and returns its version. Idempotent: when
 * the schema is current it only reads the version, needing no DDL privilege. Otherwise every
 * pending step runs in one transaction that first takes a transaction-level advisory lock for
 * the schema, then re-reads the version: processes migrating at once queue on the lock and the
 * later ones find nothing left to do, and a failed step leaves the schema as it was. A schema
 * written by a newer version of this library is refused (ConfigurationError).
 */
export async function migrate(pool: Pool, schema: string = DEFAULT_SCHEMA): Promise<number> {
  const s = quoteSchema(schema)
  const current = await settle(() => appliedVersion(pool, schema, s))
  if (current === SCHEMA_VERSION) return current
  refuseNewer(current)

  const client = await settle(() => pool.connect())
  const ignore = (): void => undefined
  client.on('error', ignore)
  let broken: unknown
  try {
    await client.query('BEGIN')
    await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [LOCK_CLASS, schema])
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`)
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${s}.schema_migrations (
         version INTEGER PRIMARY KEY,
         applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
       )`,
    )
    const locked = await appliedVersion(client, schema, s)
    refuseNewer(locked)
    for (const migration of MIGRATIONS) {
      if (migration.version <= locked) continue
      await client.query(migration.sql(s))
      await client.query(`INSERT INTO ${s}.schema_migrations (version) VALUES ($1)`, [
        migration.version,
      ])
    }
    await client.query('COMMIT')
    return SCHEMA_VERSION
  } catch (error) {
    try {
      await client.query('ROLLBACK')
    } catch (rollbackError) {
      broken = rollbackError
    }
    throw toStoreError(error)
  } finally {
    client.removeListener('error', ignore)
    client.release(broken instanceof Error ? broken : undefined)
  }
}

/** The highest applied step, 0 for a schema (or database) that has none. */
async function appliedVersion(db: Pool | PoolClient, schema: string, s: string): Promise<number> {
  // to_regclass answers NULL instead of failing when the table or schema is missing.
  const found = await db.query<{ present: string | null }>(
    'SELECT to_regclass($1)::text AS present',
    [`${escapeIdentifier(schema)}.schema_migrations`],
  )
  if (found.rows[0]?.present == null) return 0
  const { rows } = await db.query<{ version: number | null }>(
    `SELECT max(version) AS version FROM ${s}.schema_migrations`,
  )
  return rows[0]?.version ?? 0
}

function refuseNewer(version: number): void {
  if (version > SCHEMA_VERSION) {
    throw new ConfigurationError(
      'schema',
      `schema version ${version} is newer than the supported ${SCHEMA_VERSION}`,
    )
  }
}
