import { Buffer } from 'node:buffer'
import { createPublicKey, generateKeyPairSync, verify } from 'node:crypto'
import { ConfigurationError } from '@better-auth/protocol'
import { p256 } from '@noble/curves/nist.js'
import { describe, expect, it } from 'vitest'
import { decodeSignature } from '../p256/curve.js'
import { p256PublicKeyToJwk } from '../p256/key-formats.js'
import { WebCryptoP256SigningKey, WebCryptoP256Verifier } from '../p256/webcrypto.js'
import { payloadText, signatureOf, specMessage } from '../testing-internal/vectors.js'
import { NodeP256SigningKey, NodeP256Verifier } from './p256.js'

describe('keys move between the Node and Web Crypto backends', () => {
  it('Node → Web Crypto through PKCS #8 PEM and JWK', async () => {
    const node = NodeP256SigningKey.generate()
    const viaPem = await WebCryptoP256SigningKey.fromPkcs8Pem(node.toPkcs8Pem())
    const viaJwk = await WebCryptoP256SigningKey.fromJwk(node.toJwk())
    for (const key of [viaPem, viaJwk]) {
      await expect(key.public()).resolves.toBe(await node.public())
      await expect(node.verify('m', await key.sign('m'))).resolves.toBe(true)
      await expect(key.verify('m', await node.sign('m'))).resolves.toBe(true)
    }
  })

  it('Web Crypto → Node through PKCS #8 PEM and JWK', async () => {
    const web = await WebCryptoP256SigningKey.generate({ extractable: true })
    const viaPem = NodeP256SigningKey.fromPkcs8Pem(await web.toPkcs8Pem())
    const viaJwk = NodeP256SigningKey.fromJwk(await web.toJwk())
    const verifier = new WebCryptoP256Verifier()
    for (const key of [viaPem, viaJwk]) {
      await expect(key.public()).resolves.toBe(await web.public())
      await expect(verifier.verify('m', await key.sign('m'), await web.public())).resolves.toBe(
        true,
      )
      await expect(key.verify('m', await web.sign('m'))).resolves.toBe(true)
    }
  })

  it('both backends write the same JWK for the same scalar, and Node round-trips its own', async () => {
    const secret = p256.utils.randomSecretKey()
    const node = NodeP256SigningKey.fromSecretKey(secret)
    const web = await WebCryptoP256SigningKey.fromSecretKey(secret, { extractable: true })
    expect(node.toJwk()).toEqual(await web.toJwk())
    const restored = NodeP256SigningKey.fromJwk(node.toJwk())
    expect(restored.toPkcs8Pem()).toBe(node.toPkcs8Pem())
    // PKCS #8 without the optional public key reads on both sides: it is derived from the scalar.
    const bareDer = Buffer.concat([
      Buffer.from(
        '308141020100301306072a8648ce3d020106082a8648ce3d030107042730250201010420',
        'hex',
      ),
      secret,
    ])
    const bare = `-----BEGIN PRIVATE KEY-----\n${bareDer.toString('base64')}\n-----END PRIVATE KEY-----\n`
    await expect(NodeP256SigningKey.fromPkcs8Pem(bare).public()).resolves.toBe(await node.public())
    await expect((await WebCryptoP256SigningKey.fromPkcs8Pem(bare)).public()).resolves.toBe(
      await node.public(),
    )
  })

  it('reads an OpenSSL-generated P-256 key on both backends', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()
    const jwk = privateKey.export({ format: 'jwk' })
    const node = NodeP256SigningKey.fromPkcs8Pem(pem)
    await expect((await WebCryptoP256SigningKey.fromPkcs8Pem(pem)).public()).resolves.toBe(
      await node.public(),
    )
    await expect((await WebCryptoP256SigningKey.fromJwk(jwk)).public()).resolves.toBe(
      await node.public(),
    )
    expect(NodeP256SigningKey.fromJwk(jwk).toJwk()).toEqual({ kty: 'EC', crv: 'P-256', ...jwk })
  })

  it('verifies a published spec response with the server key imported into OpenSSL as a JWK', () => {
    const message = specMessage('account.create.response')
    const payload = (JSON.parse(message) as { payload: { access: { serverIdentity: string } } })
      .payload
    const key = createPublicKey({
      key: { ...p256PublicKeyToJwk(payload.access.serverIdentity) },
      format: 'jwk',
    })
    const signature = decodeSignature(signatureOf(message))!
    const ok = verify(
      'sha256',
      Buffer.from(payloadText(message)),
      { key, dsaEncoding: 'ieee-p1363' },
      signature,
    )
    expect(ok).toBe(true)
  })

  it('Node refuses malformed JWKs with ConfigurationError that does not echo the key', () => {
    const jwk = NodeP256SigningKey.generate().toJwk()
    const other = NodeP256SigningKey.generate().toJwk()
    for (const bad of [
      { ...jwk, crv: 'P-384' },
      { ...jwk, d: jwk.d.slice(2) },
      { ...jwk, x: other.x, y: other.y },
      { kty: 'EC', crv: 'P-256' },
      undefined,
    ]) {
      let thrown: unknown
      try {
        NodeP256SigningKey.fromJwk(bad as JsonWebKey)
      } catch (error) {
        thrown = error
      }
      expect(thrown).toBeInstanceOf(ConfigurationError)
      expect(`${String(thrown)} ${JSON.stringify(thrown)}`).not.toContain(jwk.d)
    }
    // The verifier of a key read from JWK is the shared Node one.
    expect(NodeP256SigningKey.fromJwk(jwk).verifier()).toBeInstanceOf(NodeP256Verifier)
  })
})
