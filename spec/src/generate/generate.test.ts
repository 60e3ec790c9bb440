import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { decodeCesrAs } from '@better-auth/cesr'
import { Blake3Hasher, NobleP256Verifier } from '@better-auth/crypto'
import { verifyEnvelope } from '@better-auth/protocol'
import { describe, expect, it } from 'vitest'
import { describeVectorSuite, parseVector } from '../testing/vector-suite.js'
import { isMessageVector, jsonById, messageById, type VectorFile } from '../vectors.js'
import { FACTS, MESSAGE_VECTOR_IDS, TOKEN_VECTOR_ID, serializeVectorFile } from './build.js'
import { MARKDOWN_FILE, VECTORS_FILE, generateExamples } from './index.js'
import { KEY_CHAIN_FILE } from './key-chain.js'
import { DOCUMENTED_IDS } from './markdown.js'

const first = await generateExamples()
const second = await generateExamples()
const generatedText = first.files.get(VECTORS_FILE)!
const markdown = first.files.get(MARKDOWN_FILE)!
// The suite reads the serialized file, exactly as a consumer of spec/examples would.
const generated = JSON.parse(generatedText) as VectorFile

const publishedText = readFileSync(
  fileURLToPath(new URL('../../vectors/spec-examples.json', import.meta.url)),
  'utf8',
)
const published = JSON.parse(publishedText) as VectorFile
const committedDir = new URL('../../examples/', import.meta.url)

describeVectorSuite('generated', () => generated)

const messages = generated.vectors.filter(isMessageVector)
const hasher = new Blake3Hasher()
const auth = (id: string) =>
  parseVector(id, messageById(generated, id)).payload.request.authentication

describe('the generator', () => {
  it('produces byte-identical files on every run', () => {
    expect([...second.files.keys()]).toEqual([MARKDOWN_FILE, VECTORS_FILE, KEY_CHAIN_FILE])
    for (const [name, contents] of first.files) expect(second.files.get(name), name).toBe(contents)
  })

  it('matches the committed spec/examples (regenerate with `make spec-examples`)', () => {
    for (const [name, contents] of first.files) {
      const committed = readFileSync(fileURLToPath(new URL(name, committedDir)), 'utf8')
      expect(committed === contents, `spec/examples/${name} is stale`).toBe(true)
    }
  })

  it('writes the vector ids of the published file, in its order', () => {
    expect(generated.vectors.map((v) => v.id)).toEqual(published.vectors.map((v) => v.id))
    expect(generated.vectors.map((v) => v.id)).toEqual([...MESSAGE_VECTOR_IDS, TOKEN_VECTOR_ID])
    const note = (file: VectorFile) => file.vectors.find((v) => v.id === TOKEN_VECTOR_ID)
    expect(note(generated)).toHaveProperty('note', (note(published) as { note: string }).note)
  })

  it('serializes in the layout of the published file', () => {
    expect(serializeVectorFile(published)).toBe(publishedText + '\n')
    expect(generatedText).toBe(serializeVectorFile(generated))
  })

  it('keeps the published facts word for word, except the three it adapts', () => {
    const adapted = [0, 7, 14]
    published.facts.forEach((fact, index) => {
      if (!adapted.includes(index)) expect(FACTS, fact).toContain(fact)
      else expect(FACTS, fact).not.toContain(fact)
    })
    // The session.create fact is extended, not changed.
    expect(FACTS.some((fact) => fact.startsWith(published.facts[7]!))).toBe(true)
  })

  it('sends only compact messages, so the pretty-printed form maps back to the signed bytes', () => {
    for (const { id, message } of messages) {
      expect(JSON.stringify(JSON.parse(message)), id).toBe(message)
    }
  })
})

describe('EXAMPLES.md', () => {
  it('contains every message exactly as sent', () => {
    for (const { id, message } of messages) {
      expect(markdown.includes(`\n${message}\n`), id).toBe(true)
    }
  })

  it('documents each message vector once', () => {
    expect([...DOCUMENTED_IDS].sort()).toEqual([...MESSAGE_VECTOR_IDS].sort())
  })

  it('shows the decoded token and the exact bytes its signature covers', () => {
    const body = JSON.stringify(jsonById(generated, TOKEN_VECTOR_ID))
    expect(markdown).toContain(`\n${body}\n`)
    expect(markdown).toContain(JSON.stringify(JSON.parse(body), null, 2))
  })

  it('lists the facts', () => {
    for (const fact of generated.facts) expect(markdown).toContain(`- ${fact}\n`)
  })
})

/**
 * What an implementation in another language sees: key order, which fields exist, and what kind
 * of value each holds. Values themselves differ from the published set by construction.
 */
function shapeOf(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(shapeOf)
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).map(([key, v]) => [key, shapeOf(v)])
  }
  if (typeof value !== 'string') return value
  if (/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(value)) return 'timestamp'
  if (value.startsWith('0I') && value.length > 88) return 'token'
  const cesr = [
    ['1AAI', 48],
    ['0I', 88],
    ['0A', 24],
    ['E', 44],
  ] as const
  for (const [code, length] of cesr) {
    if (value.startsWith(code) && value.length === length) return `cesr ${code}`
  }
  return value
}

describe('interop with the published examples', () => {
  it.each(published.vectors.map((v) => [v.id, v] as const))(
    '%s has the shape of the published vector',
    (id, vector) => {
      const ours = generated.vectors.find((v) => v.id === id)!
      const theirs = isMessageVector(vector) ? JSON.parse(vector.message) : vector.json
      const mine = isMessageVector(ours) ? JSON.parse(ours.message) : ours.json
      expect(shapeOf(mine)).toEqual(shapeOf(theirs))
    },
  )

  it('writes timestamps with 3 fractional digits (the published access request has 9)', () => {
    const timestamps = [
      parseVector('access.request', messageById(generated, 'access.request')).payload.access
        .timestamp,
      ...Object.values(jsonById(generated, TOKEN_VECTOR_ID) as Record<string, unknown>).filter(
        (v) => typeof v === 'string' && /^\d{4}-/.test(v),
      ),
    ]
    expect(timestamps).toHaveLength(4)
    for (const timestamp of timestamps) expect(timestamp).toMatch(/T\d\d:\d\d:\d\d\.\d{3}Z$/)
  })
})

describe("the run's own facts", () => {
  it('session.create.request is signed by the key device.rotate.request revealed', async () => {
    const envelope = parseVector(
      'session.create.request',
      messageById(generated, 'session.create.request'),
    )
    await verifyEnvelope(
      envelope,
      new NobleP256Verifier(),
      auth('device.rotate.request').publicKey,
      'request',
    )
  })

  it('one server and one account: a single serverIdentity and a single identity', () => {
    const serverIdentities = new Set<string>()
    const identities = new Set<string>()
    const walk = (value: unknown): void => {
      if (typeof value !== 'object' || value === null) return
      for (const [key, v] of Object.entries(value)) {
        if (key === 'serverIdentity' && typeof v === 'string') serverIdentities.add(v)
        if (key === 'identity' && typeof v === 'string') identities.add(v)
        walk(v)
      }
    }
    for (const { message } of messages) walk(JSON.parse(message))
    // Responses name the response key; the token names the access key, a second key.
    expect(serverIdentities.size).toBe(1)
    walk(jsonById(generated, TOKEN_VECTOR_ID))
    expect(serverIdentities.size).toBe(2)
    expect([...identities]).toEqual([auth('account.create.request').identity])
  })

  it('access.request carries the refreshed token', () => {
    const refreshed = parseVector(
      'session.refresh.response',
      messageById(generated, 'session.refresh.response'),
    )
    const access = parseVector('access.request', messageById(generated, 'access.request'))
    expect(access.payload.access.token).toBe(refreshed.payload.response.access.token)
  })

  it('the linked device unlinks the first device', () => {
    const unlink = parseVector(
      'device.unlink.request',
      messageById(generated, 'device.unlink.request'),
    ).payload.request
    const container = parseVector(
      'device.link.container',
      messageById(generated, 'device.link.container'),
    ).payload.authentication
    expect(unlink.authentication.device).toBe(container.device)
    expect(unlink.link.device).toBe(auth('account.create.request').device)
  })

  it('recovery uses the key the change committed to, and the recovered device deletes', async () => {
    const recover = auth('account.recover.request')
    expect(await hasher.sum(recover.recoveryKey)).toBe(auth('recovery.change.request').recoveryHash)
    expect(auth('account.delete.request').device).toBe(recover.device)
  })

  it('every signature, tokens included, is low-S (noble normalizes)', () => {
    const halfOrder = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n / 2n
    const signatures = messages.flatMap(({ id, message }) => {
      const envelope = parseVector(id, message)
      const response = envelope.payload.response as { access?: { token?: string } } | undefined
      const token = response?.access?.token ?? envelope.payload.request?.access?.token
      return [envelope.signature, typeof token === 'string' ? token.slice(0, 88) : undefined]
    })
    const present = signatures.filter((s): s is string => s !== undefined)
    expect(present.length).toBe(messages.length - 1 + 3)
    for (const signature of present) {
      const s = decodeCesrAs('0I', signature).slice(32)
      const value = BigInt(`0x${Buffer.from(s).toString('hex')}`)
      expect(value <= halfOrder, signature).toBe(true)
    }
  })
})
