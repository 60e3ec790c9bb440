import type { BetterAuthClient } from '@better-auth/client'
import { judge, type WireResponse } from './adversarial/wire.js'
import { generateKey, hasher, type ClientFactory } from './clients.js'

/** A scenario step whose outcome differed from the protocol's. */
export class ScenarioFailure extends Error {
  override readonly name = 'ScenarioFailure'
}

/**
 * A foreign server made a step impossible to judge as specified (its fixture is malformed): not
 * a failure of the pair, but a finding about that server.
 */
export class ScenarioFinding extends Error {
  override readonly name = 'ScenarioFinding'
}

/** How a scenario run is judged, and what it saw. */
export interface ScenarioContext {
  /**
   * true: our own implementations, held to the exact error codes. false: a foreign server, where
   * a refusal counts as a refusal whatever code it sends; what it sent is recorded.
   */
  readonly strict: boolean
  /** The last HTTP answer any client of the scenario received. */
  readonly lastAnswer: () => WireResponse | undefined
  /** Records what a foreign server answered where the exact code is not judged. */
  readonly observe: (note: string) => void
}

export const STRICT: ScenarioContext = {
  strict: true,
  lastAnswer: () => undefined,
  observe: () => undefined,
}

const FOO_BAR = { foo: 'bar', bar: 'foo' }

async function accessFooBar(client: BetterAuthClient): Promise<void> {
  const answer = await client.makeAccessRequest<{ wasFoo?: unknown; wasBar?: unknown }>(
    '/foo/bar',
    FOO_BAR,
  )
  if (answer.wasFoo !== 'bar' || answer.wasBar !== 'foo') {
    throw new ScenarioFailure(`/foo/bar answered ${JSON.stringify(answer)}`)
  }
}

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code
  return typeof code === 'string' ? code : undefined
}

/** `no error code ("an error occured"), HTTP 200` or `BA103, HTTP 401`. */
function describeRefusal(code: string, status: number | undefined): string {
  const http = status === undefined ? '' : `, HTTP ${status}`
  return /^BA\d{3}$/.test(code) ? `${code}${http}` : `no error code (${code})${http}`
}

async function expectRefusal(
  context: ScenarioContext,
  step: string,
  promise: Promise<unknown>,
  codes: readonly string[],
) {
  try {
    await promise
  } catch (error) {
    const code = codeOf(error)
    if (code !== undefined && codes.includes(code)) return
    const answer = context.lastAnswer()
    const judged = answer === undefined ? undefined : judge(answer)
    if (!context.strict && judged?.verdict === 'refused') {
      context.observe(
        `${step}: refused with ${describeRefusal(judged.code, judged.status)}; ${codes.join(' or ')} expected`,
      )
      return
    }
    throw new ScenarioFailure(
      `${step}: expected ${codes.join(' or ')}, got ${String(code ?? error)}` +
        (judged === undefined ? '' : ` (server: ${judged.verdict}, ${judged.code})`),
    )
  }
  throw new ScenarioFailure(`${step}: expected ${codes.join(' or ')}, but it succeeded`)
}

/** A 128-bit CESR nonce: `0A` and 22 base64url characters. */
const NONCE = /^0A[A-Za-z0-9_-]{22}$/

function answeredNonce(answer: WireResponse | undefined): unknown {
  if (answer?.kind !== 'response') return undefined
  try {
    const body = JSON.parse(answer.text) as { payload?: { access?: { nonce?: unknown } } }
    return body.payload?.access?.nonce
  } catch {
    return undefined
  }
}

/**
 * The reference servers answer `/bad/nonce` with a nonce that is not one at all, which a strict
 * client refuses as malformed before it compares nonces: reported as the server's finding.
 */
async function expectIncorrectNonce(context: ScenarioContext, promise: Promise<unknown>) {
  try {
    await promise
  } catch (error) {
    const code = codeOf(error)
    const nonce = answeredNonce(context.lastAnswer())
    if (code !== 'BA203' && !context.strict && typeof nonce === 'string' && !NONCE.test(nonce)) {
      throw new ScenarioFinding(
        `/bad/nonce answers the malformed nonce "${nonce.slice(0, 40)}" (${nonce.length} characters, ` +
          `a 128-bit nonce has 24), refused as malformed (${code ?? 'no code'}) before nonces are compared`,
      )
    }
  }
  await expectRefusal(context, '/bad/nonce', promise, ['BA203'])
}

async function createAccount(clients: ClientFactory) {
  const client = clients.newClient()
  const recoveryKey = await generateKey()
  const ids = await client.createAccount(await hasher.sum(await recoveryKey.public()))
  return { client, recoveryKey, ...ids }
}

/** The middle of scenario 1: what a signed-in device does. */
async function useSession(client: BetterAuthClient): Promise<void> {
  await client.rotateDevice()
  await client.createSession()
  await client.refreshSession()
  await accessFooBar(client)
}

export interface Scenario {
  readonly id: string
  readonly title: string
  /** `context` defaults to STRICT: our own servers are held to exact codes. */
  run(clients: ClientFactory, context?: ScenarioContext): Promise<void>
}

/** The reference scenarios every client/server pair must pass (spec/PROTOCOL.md). */
export const scenarios: readonly Scenario[] = [
  {
    id: 'scenario-1',
    title: 'create → rotate → session → refresh → access → delete',
    async run(clients) {
      const { client } = await createAccount(clients)
      await useSession(client)
      await client.deleteAccount()
    },
  },
  {
    id: 'scenario-2',
    title: 'change recovery key → recover on a fresh client → rotate → session → refresh → access',
    async run(clients) {
      const { identity, client } = await createAccount(clients)
      const nextRecovery = await generateKey()
      await client.changeRecoveryKey(await hasher.sum(await nextRecovery.public()))
      const fresh = clients.newClient()
      const afterNext = await generateKey()
      await fresh.recoverAccount(identity, nextRecovery, await hasher.sum(await afterNext.public()))
      await useSession(fresh)
    },
  },
  {
    id: 'scenario-3',
    title:
      'link a device → both sign in → new device unlinks the original → only the new one refreshes',
    async run(clients, context = STRICT) {
      const { identity, device, client: original } = await createAccount(clients)
      const added = clients.newClient()
      const container = await added.generateLinkContainer(identity)
      await original.linkDevice(container)
      await original.createSession()
      await added.createSession()
      await useSession(added)
      await added.unlinkDevice(device)
      await expectRefusal(context, 'refresh of the unlinked device', original.refreshSession(), [
        'BA103',
      ])
      await added.refreshSession()
      await accessFooBar(added)
    },
  },
  {
    id: 'scenario-4',
    title: 'a response with the wrong nonce raises IncorrectNonce',
    async run(clients, context = STRICT) {
      const { client } = await createAccount(clients)
      await client.createSession()
      await expectIncorrectNonce(context, client.makeAccessRequest('/bad/nonce', FOO_BAR))
    },
  },
]
