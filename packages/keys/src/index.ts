/**
 * The operator's side of a server key chain: `better-auth-keys` and the `KeyChainOperator` over a
 * `RootKeyVault` (file-backed by default, replaceable by an HSM or KMS).
 *
 * @module @better-auth/keys
 */
export { ChainFile, writeFileAtomic } from './chain-file.js'
export { main as runKeysCommand, USAGE as KEYS_USAGE, type CommandIo } from './command.js'
export {
  KeyChainOperator,
  type EndorseRequest,
  type KeyChainOperatorOptions,
  type LeftOutEndorsement,
  type PublishedKeySet,
} from './operator.js'
export { FileKeyVault, type RootKeyVault } from './vault.js'
