import { forgetNamespace, requestPersistentStorage } from '@better-auth/client/browser'
import { BetterAuthError, InvalidMessageError } from '@better-auth/protocol'
import { hasher, openAccount, pinResponseKey, type Account } from './account.js'
import { formatRecoveryKit, generateRecoverySecret, parseRecoveryKit } from './recovery.js'

const DEFAULT_SERVER = 'http://127.0.0.1:8080'

function element<T extends HTMLElement = HTMLElement>(id: string): T {
  const found = document.getElementById(id)
  if (found === null) throw new Error(`missing #${id}`)
  return found as T
}

const serverInput = element<HTMLInputElement>('server-url')
const slotInput = element<HTMLInputElement>('slot')
const result = element('result')

const params = new URLSearchParams(location.search)
serverInput.value = params.get('server') ?? DEFAULT_SERVER
slotInput.value = params.get('account') ?? 'default'

let account: { readonly key: string; readonly opened: Promise<Account> } | undefined

/** The account of the current server and slot inputs, reopened when either changes. */
function current(): Promise<Account> {
  const serverUrl = serverInput.value.trim()
  const slot = slotInput.value.trim() || 'default'
  const key = `${slot} ${serverUrl}`
  if (account?.key !== key) {
    const opened = openAccount(serverUrl, slot)
    account = { key, opened }
    // A failed open (bad URL, storage unavailable) is retried by the next action.
    opened.catch(() => {
      if (account?.opened === opened) account = undefined
    })
  }
  return account.opened
}

async function showStatus(): Promise<void> {
  const { stores } = await current()
  element('identity').textContent = (await stores.identity.get()) ?? '–'
  element('device').textContent = (await stores.device.get()) ?? '–'
  element('session').textContent = (await stores.accessToken.get()) ? 'active' : 'none'
  element('response-key').textContent = (await stores.responseKeys.list())[0] ?? '–'
}

function describe(error: unknown): string {
  if (error instanceof BetterAuthError) return `error ${error.code} ${error.name}: ${error.message}`
  return `error ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`
}

/**
 * Runs one user action and reports it in #result. `data-seq` counts finished actions so tests
 * (and people) can tell a new result from the previous one. Actions hold a Web Lock per account,
 * so two tabs of the same account never interleave one rotation's prepare and commit.
 */
function action(id: string, run: (account: Account) => Promise<string>): void {
  element(id).addEventListener('click', () => {
    result.dataset['state'] = 'busy'
    result.textContent = '…'
    const task = async () => {
      const active = await current()
      const lockName = `better-auth:${active.stores.namespace}`
      return navigator.locks === undefined
        ? run(active)
        : navigator.locks.request(lockName, () => run(active))
    }
    void task()
      .then(
        (text) => {
          result.dataset['state'] = 'ok'
          result.textContent = `ok ${text}`
        },
        (error: unknown) => {
          result.dataset['state'] = 'error'
          result.textContent = describe(error)
          console.error(error)
        },
      )
      .then(() => showStatus().catch(() => undefined))
      .finally(() => {
        result.dataset['seq'] = String(Number(result.dataset['seq'] ?? '0') + 1)
      })
  })
}

function showRecoveryKit(text: string): void {
  element<HTMLTextAreaElement>('recovery-kit').value = text
  element('recovery-kit-box').hidden = false
}

action('connect', async () => {
  account = undefined
  await current()
  return 'using this server'
})

action('create-account', async (active) => {
  await pinResponseKey(active)
  const { secret, key } = generateRecoverySecret()
  const { identity, device } = await active.client.createAccount(
    await hasher.sum(await key.public()),
  )
  showRecoveryKit(formatRecoveryKit(identity, secret))
  return `account created: identity ${identity}, device ${device}`
})

action('sign-in', async (active) => {
  await active.client.createSession()
  return 'signed in'
})

action('call-foo', async (active) => {
  const answer = await active.client.makeAccessRequest('/foo/bar', { foo: 'hello', bar: 'world' })
  return `/foo/bar answered ${JSON.stringify(answer)}`
})

action('rotate', async (active) => {
  await active.client.rotateDevice()
  return 'device key rotated'
})

action('refresh', async (active) => {
  await active.client.refreshSession()
  return 'session refreshed'
})

action('forget', async (active) => {
  await forgetNamespace(active.stores.namespace)
  return 'this browser forgot the account (the server still knows the device: unlink it)'
})

action('prepare-link', async (active) => {
  const identity = element<HTMLInputElement>('link-identity').value.trim()
  await pinResponseKey(active)
  const container = await active.client.generateLinkContainer(identity)
  element<HTMLTextAreaElement>('link-container-out').value = container
  return 'link container ready: paste it on a device of this account'
})

action('link-device', async (active) => {
  const container = element<HTMLTextAreaElement>('link-container-in').value.trim()
  if (container === '') throw new InvalidMessageError('container', 'paste a link container first')
  await active.client.linkDevice(container)
  return 'device linked'
})

action('unlink', async (active) => {
  const device = element<HTMLInputElement>('unlink-device').value.trim()
  await active.client.unlinkDevice(device)
  return `device ${device} unlinked`
})

action('recover', async (active) => {
  const { identity, key } = parseRecoveryKit(element<HTMLTextAreaElement>('recovery-input').value)
  await pinResponseKey(active)
  // Recovery consumes the recovery key: the server stores the commitment to a new one.
  const next = generateRecoverySecret()
  await active.client.recoverAccount(identity, key, await hasher.sum(await next.key.public()))
  showRecoveryKit(formatRecoveryKit(identity, next.secret))
  return `account recovered on this browser; every other device was unlinked`
})

element('recovery-saved').addEventListener('click', () => {
  element<HTMLTextAreaElement>('recovery-kit').value = ''
  element('recovery-kit-box').hidden = true
})

// `data-ready` tells tests (and styles) that the stored state has been read after a (re)load.
void Promise.all([
  requestPersistentStorage().then((persistence) => {
    element('persistence').textContent = persistence
  }),
  showStatus().catch((error: unknown) => {
    result.dataset['state'] = 'error'
    result.textContent = describe(error)
  }),
]).finally(() => {
  document.body.dataset['ready'] = 'true'
})
