import { memoryServerStores } from '@better-auth/server'
import { SqliteStores } from '@better-auth/store-sqlite'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe } from 'vitest'
import { itRecordsTheScenarios } from './history.js'

describe('account event log after the reference scenarios: memory', () => {
  itRecordsTheScenarios(() => memoryServerStores())
})

describe('account event log after the reference scenarios: sqlite', () => {
  const directory = mkdtempSync(join(tmpdir(), 'better-auth-history-'))
  const stores = SqliteStores.open({ filename: join(directory, 'stores.db') })
  afterAll(async () => {
    await stores.close()
    rmSync(directory, { recursive: true, force: true })
  })
  itRecordsTheScenarios(() => stores)
})
