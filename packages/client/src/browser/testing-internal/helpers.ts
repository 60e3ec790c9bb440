import { openDB } from 'idb'
import { disconnect, type BrowserSchema, type ChainRecord } from '../database.js'

let counter = 0

/** A namespace no other test uses, so tests share the page's IndexedDB without interfering. */
export function freshNamespace(label = 'ns'): string {
  counter += 1
  return `${label}-${counter}-${Math.random().toString(36).slice(2)}`
}

/**
 * What a page reload leaves: the database, and nothing in memory. Closing the shared connection
 * makes the next store reopen it; callers then build new store instances.
 */
export async function simulateReload(dbName = 'better-auth'): Promise<void> {
  await disconnect(dbName)
}

/** The raw persisted chain record, read on a separate connection as another tab would see it. */
export async function rawChain(
  namespace: string,
  name: string,
  dbName = 'better-auth',
): Promise<ChainRecord | undefined> {
  const db = await openDB<BrowserSchema>(dbName)
  try {
    return await db.get('chains', [namespace, name])
  } finally {
    db.close()
  }
}
