import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { loadOrCreateKeys } from '../src/keys.js'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'better-auth-keys-'))
})
afterEach(() => rm(dir, { recursive: true, force: true }))

describe('server key file', () => {
  it('creates private keys once and loads the same keys afterwards', async () => {
    const file = join(dir, 'nested', 'keys.json')
    const first = await loadOrCreateKeys(file)
    expect((await stat(file)).mode & 0o777).toBe(0o600)
    const again = await loadOrCreateKeys(file)
    expect(await again.response.public()).toBe(await first.response.public())
    expect(await again.access.public()).toBe(await first.access.public())
    expect(await first.access.public()).not.toBe(await first.response.public())
  })

  it('gives every process starting at once the same keys', async () => {
    const file = join(dir, 'keys.json')
    const all = await Promise.all(Array.from({ length: 32 }, () => loadOrCreateKeys(file)))
    const onDisk = JSON.parse(await readFile(file, 'utf8')) as { response: string }
    const keys = new Set(await Promise.all(all.map((k) => k.response.public())))
    expect(keys.size).toBe(1)
    expect(onDisk.response).toMatch(/^[A-Za-z0-9_-]{43}$/)
  })

  it('refuses a file that is not a key file, and an unwritable location, with BA001', async () => {
    const bogus = join(dir, 'bogus.json')
    await writeFile(bogus, '{"hello":1}')
    await expect(loadOrCreateKeys(bogus)).rejects.toMatchObject({ code: 'BA001' })
    await writeFile(join(dir, 'file'), 'x')
    await expect(loadOrCreateKeys(join(dir, 'file', 'keys.json'))).rejects.toMatchObject({
      code: 'BA001',
      context: { field: 'KEYS_FILE' },
    })
  })

  it.each([
    ['JSON null', 'null'],
    ['a bare string', '"keys"'],
    ['keys that are not base64url', '{"version":1,"response":"not base64!","access":"x?"}'],
    [
      'a key of 31 bytes',
      `{"version":1,"response":"${'A'.repeat(41)}","access":"${'A'.repeat(41)}"}`,
    ],
    [
      'the zero scalar',
      `{"version":1,"response":"${'A'.repeat(43)}","access":"${'A'.repeat(43)}"}`,
    ],
  ])(
    'refuses %s in the key file with BA001 naming KEYS_FILE, not echoing it',
    async (_name, text) => {
      const file = join(dir, 'broken.json')
      await writeFile(file, text)
      const error: unknown = await loadOrCreateKeys(file).catch((caught: unknown) => caught)
      expect(error).toMatchObject({ code: 'BA001', context: { field: 'KEYS_FILE' } })
      const { message } = error as Error
      expect(message).not.toContain('AAAAAAAAAA')
      expect(message).not.toContain('base64!')
    },
  )
})
