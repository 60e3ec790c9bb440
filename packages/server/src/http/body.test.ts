import { EventEmitter } from 'node:events'
import { Readable } from 'node:stream'
import { decodeUtf8 } from '@better-auth/protocol'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { readBodyThen, type BodySource, type RequestBody } from './body.js'
import { HttpRefusal } from './errors.js'

interface Outcome {
  readonly calls: number
  readonly error: Error | null
  readonly text: string
}

/**
 * Reads `body` and waits past the first callback, for any second one: resolves with the number of
 * calls and the first call's arguments, or rejects when none came within `withinMs`.
 */
function outcomeOf(body: RequestBody, limit: number, withinMs = 1_000): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    let first: Omit<Outcome, 'calls'> | undefined
    let calls = 0
    const timer = setTimeout(() => reject(new Error(`no callback within ${withinMs} ms`)), withinMs)
    readBodyThen(body, limit, (error, text) => {
      calls++
      if (first !== undefined) return
      first = { error, text }
      clearTimeout(timer)
      setTimeout(() => resolve({ ...first!, calls }), 10)
    })
  })
}

const json = (stream: BodySource | null, contentLength?: string): RequestBody => ({
  contentType: 'application/json',
  contentLength,
  stream,
})

/** The three kinds of stream the adapters hand the reader, each yielding `chunks`. */
const sources: Record<string, (chunks: readonly Uint8Array[]) => BodySource> = {
  'a Web stream': (chunks) =>
    new ReadableStream({
      start(controller) {
        for (const chunk of chunks) controller.enqueue(chunk)
        controller.close()
      },
    }),
  'a Node stream': (chunks) => Readable.from(chunks.map((chunk) => Buffer.from(chunk))),
  'an async iterable': (chunks) => ({
    async *[Symbol.asyncIterator]() {
      for (const chunk of chunks) {
        await Promise.resolve()
        yield chunk
      }
    },
  }),
}

describe('readBodyThen', () => {
  it.each(Object.keys(sources))(
    'reads %s as strict UTF-8 within the limit, calling back exactly once',
    async (kind) => {
      const bytes = fc.oneof(
        fc.string({ unit: 'grapheme' }).map((text) => new TextEncoder().encode(text)),
        fc.uint8Array({ maxLength: 40 }),
      )
      await fc.assert(
        fc.asyncProperty(
          bytes,
          fc.array(fc.nat(), { maxLength: 4 }),
          fc.nat({ max: 60 }),
          async (whole, cuts, limit) => {
            const at = [...new Set(cuts.map((cut) => cut % (whole.length + 1)))].sort(
              (a, b) => a - b,
            )
            const chunks = [0, ...at]
              .map((start, i) => whole.subarray(start, at[i] ?? whole.length))
              .filter((chunk) => chunk.length > 0)
            const outcome = await outcomeOf(json(sources[kind]!(chunks)), limit)
            expect(outcome.calls).toBe(1)
            if (whole.length > limit) {
              expect(outcome.error).toBeInstanceOf(HttpRefusal)
              expect((outcome.error as HttpRefusal).statusCode).toBe(413)
              return
            }
            let expected: string | undefined
            try {
              expected = decodeUtf8(whole)
            } catch {
              expected = undefined
            }
            if (expected === undefined) {
              expect(outcome.error).toMatchObject({ code: 'BA101' })
              expect(outcome.error).not.toBeInstanceOf(HttpRefusal)
            } else {
              expect(outcome.error).toBeNull()
              expect(outcome.text).toBe(expected)
            }
          },
        ),
        { numRuns: 60 },
      )
    },
  )

  it('refuses a content type or a declared length unread, calling back once', async () => {
    const unread = () => new ReadableStream<Uint8Array>({ pull: () => expect.unreachable() })
    const wrongType = await outcomeOf({ ...json(unread()), contentType: 'application/xml' }, 10)
    expect(wrongType.calls).toBe(1)
    expect((wrongType.error as HttpRefusal).statusCode).toBe(415)
    const declared = await outcomeOf(json(unread(), '11'), 10)
    expect(declared.calls).toBe(1)
    expect((declared.error as HttpRefusal).statusCode).toBe(413)
    expect(await outcomeOf(json(null), 10)).toEqual({ calls: 1, error: null, text: '' })
  })

  it('calls back once for a Node stream that goes on after the limit, then fails', async () => {
    const stream = new Readable({ read() {} })
    const reading = outcomeOf(json(stream), 4)
    stream.push('12345')
    stream.push('6')
    stream.destroy(new Error('socket reset after the refusal'))
    const outcome = await reading
    expect(outcome.calls).toBe(1)
    expect((outcome.error as HttpRefusal).statusCode).toBe(413)
    expect(stream.isPaused()).toBe(true)
  })

  it('refuses a Node stream closed before its end as the client going away', async () => {
    const stream = new Readable({ read() {} })
    const reading = outcomeOf(json(stream), 100)
    stream.push('{"a"')
    stream.destroy()
    const outcome = await reading
    expect(outcome.calls).toBe(1)
    expect(outcome.error).toMatchObject({ code: 'ECONNRESET' })
  })

  it('refuses a Node stream the client closed before it was read, instead of waiting forever', async () => {
    // As when the client goes away while an earlier hook (an async onRequest) is still running.
    const stream = new Readable({ read() {} })
    stream.push('{"a"')
    stream.destroy()
    await new Promise((resolve) => setImmediate(resolve))
    expect(stream.destroyed).toBe(true)
    const outcome = await outcomeOf(json(stream), 100)
    expect(outcome.calls).toBe(1)
    expect(outcome.error).toMatchObject({ code: 'ECONNRESET' })
  })

  it('reads a Node stream that has already ended as empty', async () => {
    const stream = Readable.from([])
    stream.resume()
    await new Promise((resolve) => stream.once('end', resolve))
    expect(await outcomeOf(json(stream), 100)).toEqual({ calls: 1, error: null, text: '' })
  })

  it('reads something with events but no stream state as the async iterable it is', async () => {
    // Events and pause() but no readableEnded: not a Node stream, so its events cannot tell its
    // end from a close before it. It says nothing on them; its bytes come through iteration.
    const bytes = new TextEncoder().encode('{"a":1}')
    const source = Object.assign(new EventEmitter(), {
      pause() {},
      async *[Symbol.asyncIterator]() {
        await Promise.resolve()
        yield bytes
      },
    })
    expect(await outcomeOf(json(source), 100)).toEqual({ calls: 1, error: null, text: '{"a":1}' })
  })

  it('reads a Node stream whose body comes in several chunks, and leaves no listener behind', async () => {
    const stream = new Readable({ read() {} })
    const listeners = () =>
      ['data', 'end', 'error', 'close'].map((event) => stream.listenerCount(event))
    const before = listeners()
    const reading = outcomeOf(json(stream), 100)
    for (const part of ['{"a"', ':', '"é"}']) stream.push(part)
    stream.push(null)
    expect(await reading).toEqual({ calls: 1, error: null, text: '{"a":"é"}' })
    expect(listeners()).toEqual(before)
  })
})
