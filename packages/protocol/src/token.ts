import { readJson } from './json/spans.js'
import type { SigningKey } from './interfaces/crypto.js'
import type { TokenEncoder } from './interfaces/encoding.js'
import { accessTokenBody, type AccessTokenBody } from './messages/protocols.js'
import {
  signature as signatureValidator,
  token as tokenValidator,
  SIGNATURE_LENGTH,
} from './schema.js'

export interface DecodedAccessToken {
  readonly body: AccessTokenBody
  /** The exact decompressed bytes the token signature covers. */
  readonly bodyText: string
  readonly signature: string
}

/**
 * Splits and inflates a token. Nothing here is trusted yet: the caller verifies `signature` over
 * `bodyText` with the server key named by `body.serverIdentity`, after checking that key is known.
 */
export async function decodeAccessToken(
  text: unknown,
  encoder: TokenEncoder,
): Promise<DecodedAccessToken> {
  const token = tokenValidator(text, 'token')
  const signature = token.slice(0, SIGNATURE_LENGTH)
  const bodyText = await encoder.decode(token.slice(SIGNATURE_LENGTH))
  const parsed = readJson(bodyText, [0, bodyText.length], 'token')
  return { body: accessTokenBody(parsed, 'token'), bodyText, signature }
}

export async function encodeAccessToken(
  body: AccessTokenBody,
  signer: SigningKey,
  encoder: TokenEncoder,
): Promise<string> {
  const bodyText = JSON.stringify(accessTokenBody(body, 'token'))
  const signature = signatureValidator(await signer.sign(bodyText), 'signer output')
  return signature + (await encoder.encode(bodyText))
}
