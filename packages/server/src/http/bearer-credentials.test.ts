import { ConfigurationError } from '@better-auth/protocol'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { BearerCredentials } from './bearer-credentials.js'

const ORDERS = 'o'.repeat(32)
const BILLING = 'b'.repeat(40)

async function codeOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (error) {
    return (error as { code?: unknown }).code
  }
  return 'none'
}

describe('BearerCredentials', () => {
  const credentials = new BearerCredentials({ orders: ORDERS, billing: BILLING }, 'services')

  it('answers the name of the credential presented', async () => {
    expect(await credentials.authorize(`Bearer ${ORDERS}`)).toBe('orders')
    expect(await credentials.authorize(`bearer  ${BILLING} `)).toBe('billing')
  })

  it('refuses a missing credential with BA303 and any other with BA304', async () => {
    for (const header of [undefined, null, '', 'Bearer', `Basic ${ORDERS}`, `Bearer ${ORDERS} x`]) {
      expect(await codeOf(credentials.authorize(header))).toBe('BA303')
    }
    for (const sent of [ORDERS.slice(1), `${ORDERS}o`, 'x'.repeat(32), BILLING.toUpperCase()]) {
      expect(await codeOf(credentials.authorize(`Bearer ${sent}`))).toBe('BA304')
    }
  })

  it('refuses any other secret, whatever its length or content (BA304)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.stringMatching(/^\S{1,80}$/), async (sent) => {
        fc.pre(sent !== ORDERS && sent !== BILLING)
        expect(await codeOf(credentials.authorize(`Bearer ${sent}`))).toBe('BA304')
      }),
    )
  })

  it.each([
    [{}, 'must name at least one credential'],
    [{ orders: 'short' }, 'must be a secret of at least 32 characters'],
    [{ orders: ORDERS, billing: ORDERS }, 'gives one secret to two names'],
  ])('refuses %j, naming the setting', (given, message) => {
    expect(() => new BearerCredentials(given, 'services')).toThrow(ConfigurationError)
    expect(() => new BearerCredentials(given, 'services')).toThrow(`services: ${message}`)
  })
})
