export { ChainFile } from './chain-file.js'
export { main as runKeysCommand, USAGE as KEYS_USAGE, type CommandIo } from './command.js'
export { KeyChainOperator, type EndorseRequest, type KeyChainOperatorOptions } from './operator.js'
export { FileKeyVault, type RootKeyVault } from './vault.js'
