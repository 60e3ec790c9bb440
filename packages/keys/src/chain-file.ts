/// <reference types="node" />
import { mkdir, open, readFile, rename } from 'node:fs/promises'
import { dirname } from 'node:path'
import { ConfigurationError } from '@better-auth/protocol'

/**
 * The published half of the chain: its signed events, oldest first, as a JSON array of their exact
 * texts. Replaced atomically (write, sync, rename), so a crash leaves the old file or the new one.
 */
export class ChainFile {
  constructor(readonly path: string) {}

  /** The event texts, or undefined when there is no chain yet. */
  async read(): Promise<string[] | undefined> {
    let text: string
    try {
      text = await readFile(this.path, 'utf8')
    } catch (error) {
      if ((error as { code?: unknown }).code === 'ENOENT') return undefined
      throw error
    }
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch {
      throw new ConfigurationError('chain', `${this.path} is not JSON`)
    }
    if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
      throw new ConfigurationError('chain', `${this.path} is not an array of event texts`)
    }
    return value
  }

  write(events: readonly string[]): Promise<void> {
    return writeFileAtomic(this.path, JSON.stringify(events, null, 2) + '\n')
  }
}

/** Replaces `path` with `text` so that readers see the old file or the new one, never a mix. */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true })
  const temporary = `${path}.${process.pid}.tmp`
  const file = await open(temporary, 'w', 0o644)
  try {
    await file.writeFile(text, 'utf8')
    await file.sync()
  } finally {
    await file.close()
  }
  await rename(temporary, path)
}
