import type { JsonValue } from '@better-auth/protocol'
import { describe, expect, it } from 'vitest'
import { createHarness } from './harness.js'

describe('accessResponse', () => {
  it('refuses undefined (which has no JSON form) with BA101 and signs null', async () => {
    const { server } = await createHarness()
    await expect(
      server.accessResponse('0AAAAAAAAAAAAAAAAAAAAAAA', undefined as unknown as JsonValue),
    ).rejects.toMatchObject({ code: 'BA101', context: { field: 'response' } })
    const signed = await server.accessResponse('0AAAAAAAAAAAAAAAAAAAAAAA', null)
    expect(JSON.parse(signed)).toMatchObject({ payload: { response: null } })
  })
})
