import { NobleP256SigningKey, Rfc3339Timestamper, WebCryptoP256Verifier } from '@better-auth/crypto'
import {
  Blake3Hasher,
  DefaultIdentityVerifier,
  GzipTokenEncoder,
  SecureNoncer,
} from '@better-auth/crypto'
import {
  AccessVerifier,
  BetterAuthServer,
  StaticVerificationKeyStore,
  memoryServerStores,
} from '@better-auth/server'
import Fastify from 'fastify'
import { connect } from 'node:net'
import { Writable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { betterAuth } from './index.js'

function fixture() {
  const hasher = new Blake3Hasher()
  const verifier = new WebCryptoP256Verifier()
  const timestamper = new Rfc3339Timestamper()
  const tokenEncoder = new GzipTokenEncoder()
  const accessKey = NobleP256SigningKey.generate()
  const stores = memoryServerStores()
  const server = new BetterAuthServer({
    crypto: {
      hasher,
      noncer: new SecureNoncer(),
      verifier,
      keyPairs: { response: NobleP256SigningKey.generate(), access: accessKey },
    },
    encoding: { timestamper, tokenEncoder, identityVerifier: new DefaultIdentityVerifier(hasher) },
    stores,
  })
  const accessVerifier = new AccessVerifier({
    crypto: { verifier },
    encoding: { timestamper, tokenEncoder },
    stores: {
      accessNonce: stores.accessNonce,
      accessVerificationKeys: new StaticVerificationKeyStore([accessKey]),
    },
  })
  return { server, accessVerifier }
}

/** Sends headers and half of the announced body, then drops the connection. */
function abortMidBody(port: number, path: string): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(
        `POST ${path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"payload":`,
      )
      setTimeout(() => {
        socket.destroy()
        resolve()
      }, 20)
    })
    socket.on('error', () => undefined)
  })
}

describe('client disconnects', () => {
  it('log aborted requests below error level, without a stack trace', async () => {
    const lines: { level: number; msg?: string; err?: { stack?: string } }[] = []
    const stream = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        for (const line of chunk.toString().split('\n'))
          if (line !== '') lines.push(JSON.parse(line))
        callback()
      },
    })
    const app = Fastify({ logger: { level: 'debug', stream } })
    await app.register(betterAuth, fixture())
    app.post('/orders', { config: { betterAuth: 'access' } }, () => ({ ok: true }))
    await app.listen({ host: '127.0.0.1', port: 0 })
    const { port } = app.server.address() as { port: number }
    for (let i = 0; i < 10; i++) {
      await abortMidBody(port, i % 2 === 0 ? '/account/create' : '/orders')
    }
    await new Promise((resolve) => setTimeout(resolve, 300))
    await app.close()

    expect(lines.filter((line) => line.level >= 50)).toEqual([])
    expect(lines.some((line) => JSON.stringify(line).includes('stack'))).toBe(false)
    expect(lines.filter((line) => line.msg?.includes('disconnected'))).toHaveLength(10)
  })
})
