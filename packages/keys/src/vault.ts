/// <reference types="node" />
import { chmod, mkdir, open, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { NodeP256SigningKey } from '@better-auth/crypto/node'
import { ConfigurationError, type SigningKey } from '@better-auth/protocol'

/**
 * Where root private keys live. The chain needs two at a time: the current key (endorsements) and
 * the committed next key (the next rotation). An HSM or cloud KMS implements this interface with
 * non-exportable keys; `FileKeyVault` is the default for a single operator machine.
 */
export interface RootKeyVault {
  /** Creates and keeps the key for chain position `sequence`; an existing one is returned as is. */
  create(sequence: number): Promise<SigningKey>
  /** The key for `sequence`; throws ConfigurationError when the vault does not hold it. */
  signer(sequence: number): Promise<SigningKey>
  /** Forgets the key for `sequence`; nothing happens when it is already gone. */
  destroy(sequence: number): Promise<void>
}

/**
 * Root keys as unencrypted PKCS #8 PEM files, `root-<sequence>.pem`, readable by the owner only,
 * in a directory readable by the owner only. Protect the directory as you would any private key
 * (an encrypted volume, an offline machine); use a KMS-backed vault where one is available.
 */
export class FileKeyVault implements RootKeyVault {
  constructor(readonly directory: string) {}

  #path(sequence: number): string {
    return join(this.directory, `root-${sequence}.pem`)
  }

  async create(sequence: number): Promise<SigningKey> {
    await mkdir(this.directory, { recursive: true, mode: 0o700 })
    await chmod(this.directory, 0o700)
    const key = NodeP256SigningKey.generate()
    let file
    try {
      // 'wx': a key is written once; a leftover from an interrupted rotation is reused below.
      file = await open(this.#path(sequence), 'wx', 0o600)
    } catch (error) {
      if ((error as { code?: unknown }).code === 'EEXIST') return this.signer(sequence)
      throw error
    }
    try {
      await file.writeFile(key.toPkcs8Pem(), 'utf8')
      await file.sync()
    } finally {
      await file.close()
    }
    return key
  }

  async signer(sequence: number): Promise<SigningKey> {
    let pem: string
    try {
      pem = await readFile(this.#path(sequence), 'utf8')
    } catch (error) {
      if ((error as { code?: unknown }).code === 'ENOENT') {
        throw new ConfigurationError('vault', `no root key for sequence ${sequence}`)
      }
      throw error
    }
    return NodeP256SigningKey.fromPkcs8Pem(pem)
  }

  async destroy(sequence: number): Promise<void> {
    await rm(this.#path(sequence), { force: true })
  }
}
