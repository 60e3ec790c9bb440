import { base64UrlDecode, base64UrlEncode } from '@better-auth/cesr'
import { describe, expect, it } from 'vitest'
import type { SigningKey } from './interfaces/crypto.js'
import type { TokenEncoder } from './interfaces/encoding.js'
import { decodeAccessToken, encodeAccessToken } from './token.js'

// Plain base64url of the UTF-8 text: the token framing without compression.
const encoder: TokenEncoder = {
  encode: (text) => Promise.resolve(base64UrlEncode(new TextEncoder().encode(text))),
  decode: (encoded) => Promise.resolve(new TextDecoder().decode(base64UrlDecode(encoded))),
}
const SIGNATURE = `0I${'B'.repeat(86)}`
const signed: string[] = []
const signer = {
  sign: (message: string) => {
    signed.push(message)
    return Promise.resolve(SIGNATURE)
  },
} as unknown as SigningKey

const E = (c: string) => `E${c.repeat(43)}`
const body = {
  serverIdentity: `1AAI${'A'.repeat(44)}`,
  device: E('A'),
  identity: E('B'),
  publicKey: `1AAI${'C'.repeat(44)}`,
  rotationHash: E('D'),
  issuedAt: '2025-10-19T17:26:07.097Z',
  expiry: '2025-10-19T17:41:07.097Z',
  refreshExpiry: '2025-10-20T05:26:07.097Z',
  attributes: { role: 'admin' },
}

describe('access tokens', () => {
  it('are the signature over the body text followed by the encoded body text', async () => {
    signed.length = 0
    const text = await encodeAccessToken(body, signer, encoder)
    const bodyText = JSON.stringify(body)
    expect(signed).toEqual([bodyText])
    expect(text).toBe(SIGNATURE + (await encoder.encode(bodyText)))
    await expect(decodeAccessToken(text, encoder)).resolves.toEqual({
      body,
      bodyText,
      signature: SIGNATURE,
    })
  })

  it('sign the body in schema order, whatever order it was given in', async () => {
    signed.length = 0
    const reordered = Object.fromEntries(Object.entries(body).reverse()) as typeof body
    await encodeAccessToken(reordered, signer, encoder)
    expect(signed).toEqual([JSON.stringify(body)])
  })

  it('refuse a malformed token, body or signer output with the field that was wrong', async () => {
    await expect(decodeAccessToken('x', encoder)).rejects.toMatchObject({
      message: 'Invalid message: token: expected an access token',
    })
    const extra = SIGNATURE + (await encoder.encode(JSON.stringify({ ...body, admin: true })))
    await expect(decodeAccessToken(extra, encoder)).rejects.toMatchObject({
      message: 'Invalid message: token.admin: unexpected field',
    })
    const notJson = SIGNATURE + (await encoder.encode('{"serverIdentity"'))
    await expect(decodeAccessToken(notJson, encoder)).rejects.toMatchObject({
      code: 'BA101',
      context: { field: expect.stringMatching(/^token\b/) as unknown },
    })
    const badSigner = { sign: () => Promise.resolve('0Ix') } as unknown as SigningKey
    await expect(encodeAccessToken(body, badSigner, encoder)).rejects.toMatchObject({
      message: 'Invalid message: signer output: expected a P-256 signature (0I…), got a string',
    })
    await expect(
      encodeAccessToken({ ...body, device: 'x' }, signer, encoder),
    ).rejects.toMatchObject({ message: expect.stringMatching(/^Invalid message: token\.device: /) })
  })
})
