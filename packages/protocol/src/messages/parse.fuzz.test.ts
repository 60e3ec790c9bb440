// Fuzz targets of every message parser: the published messages, mutated as text and as JSON.
// Short in the test run; `make fuzz` runs each for FUZZ_SECONDS. A parser may only throw our typed
// errors; a crash found here becomes a named regression test in parse.test.ts.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  expectOnly,
  fuzzParameters,
  fuzzRuns,
  fuzzTimeout,
  mutatedJson,
  mutatedText,
  seedMessage,
  seedMessages,
} from '../../../cesr/src/testing-internal/fuzz.js'
import { BetterAuthError, isErrorCode } from '../errors.js'
import { parseEnvelopeAt } from './envelope.js'
import {
  linkContainerOf,
  parseAccessRequest,
  parseAccessResponse,
  parseLinkContainer,
  parseRequest,
  parseResponse,
} from './parse.js'
import { accessRequestPayload, type ProtocolName } from './protocols.js'

const typed = (error: unknown): boolean =>
  error instanceof BetterAuthError && isErrorCode(error.code)

/** The spec vector id of each protocol's messages. */
const vectorIds: Record<ProtocolName, string> = {
  createAccount: 'account.create',
  recoverAccount: 'account.recover',
  deleteAccount: 'account.delete',
  requestSession: 'session.request',
  createSession: 'session.create',
  refreshSession: 'session.refresh',
  rotateDevice: 'device.rotate',
  linkDevice: 'device.link',
  unlinkDevice: 'device.unlink',
  changeRecoveryKey: 'recovery.change',
}
const kinds = Object.keys(vectorIds) as ProtocolName[]
const allSeeds = [...seedMessages.values()]

/** Messages of one kind: its seeds mutated as text or as JSON, other messages as donors. */
function messages(seeds: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(mutatedText([...seeds, ...allSeeds]), mutatedJson(seeds), mutatedText(seeds))
}

function fuzzEachKind(
  direction: 'request' | 'response',
  parse: (kind: ProtocolName, text: string) => unknown,
): void {
  const cases = fc
    .constantFrom(...kinds)
    .chain((kind) =>
      messages([seedMessage(`${vectorIds[kind]}.${direction}`)]).map((text) => ({ kind, text })),
    )
  const seeds = kinds.map((kind) => ({
    kind,
    text: seedMessage(`${vectorIds[kind]}.${direction}`),
  }))
  fc.assert(
    fc.property(cases, ({ kind, text }) => expectOnly(typed, () => parse(kind, text))),
    fuzzParameters(seeds),
  )
}

describe('fuzz: protocol messages', () => {
  it(
    'parseRequest of every protocol throws only typed errors',
    () => {
      fuzzEachKind('request', (kind, text) => {
        const envelope = parseRequest(kind, text)
        if (kind === 'linkDevice')
          linkContainerOf(envelope as ReturnType<typeof parseRequest<'linkDevice'>>)
      })
    },
    fuzzTimeout(),
  )

  it(
    'parseResponse of every protocol throws only typed errors',
    () => {
      fuzzEachKind('response', (kind, text) => parseResponse(kind, text))
    },
    fuzzTimeout(),
  )

  it(
    'parseLinkContainer throws only typed errors',
    () => {
      const seeds = [seedMessage('device.link.container')]
      fc.assert(
        fc.property(messages(seeds), (text) => expectOnly(typed, () => parseLinkContainer(text))),
        fuzzParameters(seeds),
      )
    },
    fuzzTimeout(),
  )

  it(
    'parseAccessRequest throws only typed errors, reading the request as value or as text',
    () => {
      const seeds = [seedMessage('access.request')]
      fc.assert(
        fc.property(messages(seeds), fc.boolean(), (text, asText) =>
          expectOnly(typed, () =>
            asText ? parseAccessRequest(text, { request: 'text' }) : parseAccessRequest(text),
          ),
        ),
        {
          ...fuzzRuns<[string, boolean]>(),
          examples: seeds.map((seed): [string, boolean] => [seed, false]),
        },
      )
    },
    fuzzTimeout(),
  )

  it(
    'parseAccessResponse throws only typed errors',
    () => {
      const seeds = [seedMessage('access.response')]
      fc.assert(
        fc.property(messages(seeds), (text) => expectOnly(typed, () => parseAccessResponse(text))),
        fuzzParameters(seeds),
      )
    },
    fuzzTimeout(),
  )

  it(
    'the compact access path reads exactly what the general path reads',
    () => {
      // parseAccessRequest tries the fixed-layout envelope first; whatever it accepts, the general
      // reader must accept with the same payload, and the same error must come out otherwise.
      const seeds = [seedMessage('access.request')]
      const outcome = (run: () => unknown): unknown => {
        try {
          return { value: run() }
        } catch (error) {
          if (!typed(error)) throw error
          return { code: (error as BetterAuthError).code }
        }
      }
      fc.assert(
        fc.property(messages(seeds), (text) => {
          const general = outcome(() =>
            parseEnvelopeAt(text, [0, text.length], accessRequestPayload, true, 'message'),
          )
          expect(outcome(() => parseAccessRequest(text))).toEqual(general)
        }),
        fuzzParameters(seeds),
      )
    },
    fuzzTimeout(),
  )
})
