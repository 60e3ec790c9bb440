import { MemoryAccountEventStore } from './account-event-store.js'
import { MemoryAuthenticationKeyStore } from './authentication-key-store.js'
import { MemoryAuthenticationNonceStore } from './nonce-store.js'
import { MemoryRecoveryHashStore } from './recovery-hash-store.js'
import { MemoryTimeLockStore } from './time-lock-store.js'

export {
  MemoryAccountEventStore,
  MemoryAuthenticationKeyStore,
  MemoryAuthenticationNonceStore,
  MemoryRecoveryHashStore,
  MemoryTimeLockStore,
}

/** A full set of server stores in process memory: for tests and single-process servers. */
export function memoryServerStores() {
  const accountEvents = new MemoryAccountEventStore()
  return {
    authenticationKey: new MemoryAuthenticationKeyStore(accountEvents),
    accountEvents,
    authenticationNonce: new MemoryAuthenticationNonceStore(),
    recoveryHash: new MemoryRecoveryHashStore(),
    accessKeyHash: new MemoryTimeLockStore(),
    accessNonce: new MemoryTimeLockStore(),
  }
}
