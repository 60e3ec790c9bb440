import {
  ConfigurationError,
  InvalidCredentialError,
  MissingCredentialError,
  constantTimeEqual,
} from '@better-auth/protocol'

const MIN_CREDENTIAL_LENGTH = 32

/**
 * Named bearer secrets (each at least 32 characters; generate them, e.g. 32 random bytes in
 * base64url), such as one per operator or per calling service. `authorize` answers which one a
 * request presented, so a caller can record who asked; removing a name revokes its secret.
 */
export class BearerCredentials {
  readonly #digests: Promise<readonly (readonly [name: string, digest: string])[]>

  /** `field` names the setting in the ConfigurationError of a missing or short secret. */
  constructor(credentials: Readonly<Record<string, string>>, field: string) {
    const entries = Object.entries(credentials ?? {})
    if (entries.length === 0) {
      throw new ConfigurationError(field, 'must name at least one credential')
    }
    for (const [, secret] of entries) {
      if (typeof secret !== 'string' || secret.length < MIN_CREDENTIAL_LENGTH) {
        throw new ConfigurationError(
          field,
          `must be a secret of at least ${MIN_CREDENTIAL_LENGTH} characters`,
        )
      }
    }
    // Two names sharing a secret could not be told apart: who asked would be a guess.
    if (new Set(entries.map(([, secret]) => secret)).size !== entries.length) {
      throw new ConfigurationError(field, 'gives one secret to two names')
    }
    this.#digests = Promise.all(
      entries.map(async ([name, secret]) => [name, await digest(secret)] as const),
    )
  }

  /**
   * The name of the credential `Authorization: Bearer <secret>` presents. Refuses a request
   * without one (MissingCredentialError, BA303) or with any other (InvalidCredentialError, BA304).
   * Both sides are hashed first and every credential is compared, so the time taken does not
   * depend on the length or content of what was sent, nor on which credential it matched.
   */
  async authorize(authorization: string | null | undefined): Promise<string> {
    const match = /^Bearer[ ]+(\S+)[ ]*$/i.exec(authorization ?? '')
    if (match === null) throw new MissingCredentialError()
    const [sent, digests] = await Promise.all([digest(match[1]!), this.#digests])
    let found: string | undefined
    for (const [name, expected] of digests) {
      if (constantTimeEqual(sent, expected)) found = name
    }
    if (found === undefined) throw new InvalidCredentialError()
    return found
  }
}

async function digest(text: string): Promise<string> {
  const bytes = new Uint8Array(
    await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)),
  )
  let hex = ''
  for (const byte of bytes) hex += byte.toString(16).padStart(2, '0')
  return hex
}
