import type { BetterAuthClient } from '@better-auth/client'
import { generateKey, hasher, type ClientFactory } from './clients.js'

/** A scenario step whose outcome differed from the protocol's. */
export class ScenarioFailure extends Error {
  override readonly name = 'ScenarioFailure'
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

async function expectCode(step: string, promise: Promise<unknown>, codes: readonly string[]) {
  try {
    await promise
  } catch (error) {
    const code = (error as { code?: unknown }).code
    if (typeof code === 'string' && codes.includes(code)) return
    throw new ScenarioFailure(
      `${step}: expected ${codes.join(' or ')}, got ${String(code ?? error)}`,
    )
  }
  throw new ScenarioFailure(`${step}: expected ${codes.join(' or ')}, but it succeeded`)
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
  run(clients: ClientFactory): Promise<void>
}

/** The reference scenarios every client/server pair must pass (../shared/protocol.md). */
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
    async run(clients) {
      const { identity, device, client: original } = await createAccount(clients)
      const added = clients.newClient()
      const container = await added.generateLinkContainer(identity)
      await original.linkDevice(container)
      await original.createSession()
      await added.createSession()
      await useSession(added)
      await added.unlinkDevice(device)
      await expectCode('refresh of the unlinked device', original.refreshSession(), ['BA103'])
      await added.refreshSession()
      await accessFooBar(added)
    },
  },
  {
    id: 'scenario-4',
    title: 'a response with the wrong nonce raises IncorrectNonce',
    async run(clients) {
      const { client } = await createAccount(clients)
      await client.createSession()
      await expectCode('/bad/nonce', client.makeAccessRequest('/bad/nonce', FOO_BAR), ['BA203'])
    },
  },
]
