import { base64UrlDecode, base64UrlEncode } from '@better-auth/cesr'
import { NobleP256SigningKey, WebCryptoP256SigningKey } from '@better-auth/crypto'
import { NodeP256SigningKey } from '@better-auth/crypto/node'
import { ConfigurationError, type SigningKey } from '@better-auth/protocol'
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import type { CryptoBackend } from './config.js'

export interface ServerKeys {
  readonly response: SigningKey
  readonly access: SigningKey
}

interface KeyFile {
  readonly version: 1
  readonly response: string
  readonly access: string
}

function newSecret(): Uint8Array {
  // A random 32-byte string is a valid P-256 scalar except with probability ~2^-32; retry then.
  for (;;) {
    const secret = crypto.getRandomValues(new Uint8Array(32))
    try {
      NodeP256SigningKey.fromSecretKey(secret)
      return secret
    } catch {
      continue
    }
  }
}

/**
 * Loads the server's response and access keys, generating and persisting them on first start so
 * a restart keeps serving existing clients (they pin the response key; tokens name the access key).
 * The file is written with mode 0600 and linked into place, so it is never half-written.
 */
export async function loadOrCreateKeys(
  file: string,
  backend: CryptoBackend = 'node',
): Promise<ServerKeys> {
  const stored: unknown = (await readKeyFile(file)) ?? (await createKeyFile(file))
  if (
    typeof stored !== 'object' ||
    stored === null ||
    (stored as Partial<KeyFile>).version !== 1 ||
    typeof (stored as Partial<KeyFile>).response !== 'string' ||
    typeof (stored as Partial<KeyFile>).access !== 'string'
  ) {
    throw new ConfigurationError('KEYS_FILE', `${file} is not a key file of this server`)
  }
  const keys = stored as KeyFile
  try {
    return {
      response: await signingKey(backend, base64UrlDecode(keys.response)),
      access: await signingKey(backend, base64UrlDecode(keys.access)),
    }
  } catch {
    // Neither the decoder's nor the key import's message: both could echo key material.
    throw new ConfigurationError('KEYS_FILE', `${file} holds a key that is not a P-256 secret`)
  }
}

async function readKeyFile(file: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as unknown
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new ConfigurationError('KEYS_FILE', `cannot read ${file}`)
  }
}

/**
 * Writes new keys to a private temporary file and links it into place. link() never replaces an
 * existing file, so when several processes start at once exactly one key file wins and every
 * process adopts it, instead of each serving keys another process overwrote.
 */
async function createKeyFile(file: string): Promise<unknown> {
  const fresh: KeyFile = {
    version: 1,
    response: base64UrlEncode(newSecret()),
    access: base64UrlEncode(newSecret()),
  }
  // Random, not pid + time: concurrent writers in one process share both within a millisecond, and
  // a shared name would make one writer fail with EEXIST and then delete the other's file.
  const temporary = `${file}.${crypto.randomUUID()}.tmp`
  try {
    await mkdir(dirname(file), { recursive: true, mode: 0o700 })
    await writeFile(temporary, JSON.stringify(fresh) + '\n', { mode: 0o600, flag: 'wx' })
    await link(temporary, file)
    return fresh
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      const winner = await readKeyFile(file)
      if (winner !== undefined) return winner
    }
    throw new ConfigurationError('KEYS_FILE', `cannot write ${file}`)
  } finally {
    await unlink(temporary).catch(() => undefined)
  }
}

/** A new key pair on `backend`, made in this process (a rotating service key). */
export function generateSigningKey(backend: CryptoBackend): Promise<SigningKey> {
  return signingKey(backend, newSecret())
}

async function signingKey(backend: CryptoBackend, secret: Uint8Array): Promise<SigningKey> {
  switch (backend) {
    case 'node':
      return NodeP256SigningKey.fromSecretKey(secret)
    case 'webcrypto':
      return WebCryptoP256SigningKey.fromSecretKey(secret)
    case 'noble':
      return NobleP256SigningKey.fromSecretKey(secret)
  }
}
