import { requestPersistentStorage } from '@better-auth/client/browser'
import { BetterAuthProvider, useAccess, useAuth, useSession } from '@better-auth/react'
import { BetterAuthError, InvalidMessageError, InvalidStateError } from '@better-auth/protocol'
import { useCallback, useEffect, useState, type ReactNode } from 'react'
import { hasher, openAccount, pinResponseKey, type Account } from './account.js'
import { LinkQrCode } from './link-qr-code.js'
import { readQrCode } from './scan-qr-code.js'
import { formatRecoveryKit, generateRecoverySecret, parseRecoveryKit } from './recovery.js'

export interface AppProps {
  readonly serverUrl: string
  readonly slot: string
  readonly refreshMarginMs?: number | undefined
}

/** What #result shows; `seq` counts finished actions so tests can tell a new result apart. */
interface Result {
  readonly state: 'idle' | 'busy' | 'ok' | 'error'
  readonly text: string
  readonly seq: number
}

type Report = (task: () => Promise<string>) => void

/** The server and account slot in use; the provider (and its session) is replaced on change. */
export function App(props: AppProps): ReactNode {
  const [target, setTarget] = useState({ serverUrl: props.serverUrl, slot: props.slot })
  const [serverInput, setServerInput] = useState(props.serverUrl)
  const [slotInput, setSlotInput] = useState(props.slot)
  const [account, setAccount] = useState<Account>()
  const [result, setResult] = useState<Result>({ state: 'idle', text: '–', seq: 0 })
  const { refreshMarginMs } = props

  const create = useCallback(async () => {
    const opened = await openAccount(target.serverUrl, target.slot || 'default', {
      ...(refreshMarginMs === undefined ? {} : { refreshMarginMs }),
    })
    setAccount(opened)
    return opened.session
  }, [target, refreshMarginMs])

  const report = useCallback<Report>((task) => {
    setResult((previous) => ({ ...previous, state: 'busy', text: '…' }))
    task().then(
      (text) => setResult(({ seq }) => ({ state: 'ok', text: `ok ${text}`, seq: seq + 1 })),
      (error: unknown) => {
        console.error(error)
        setResult(({ seq }) => ({ state: 'error', text: describe(error), seq: seq + 1 }))
      },
    )
  }, [])

  return (
    <>
      <header>
        <h1>better-auth web example</h1>
        <p>
          Keys are non-extractable Web Crypto keys in this browser&apos;s IndexedDB; the session
          refreshes itself before its access token expires, in one tab for all tabs.
        </p>
      </header>
      <section>
        <h2>Server</h2>
        <label>
          Server URL{' '}
          <input
            id="server-url"
            size={32}
            autoComplete="off"
            spellCheck={false}
            value={serverInput}
            onChange={(event) => setServerInput(event.target.value)}
          />
        </label>{' '}
        <label>
          Account slot{' '}
          <input
            id="slot"
            size={12}
            autoComplete="off"
            spellCheck={false}
            value={slotInput}
            onChange={(event) => setSlotInput(event.target.value)}
          />
        </label>{' '}
        <button
          id="connect"
          onClick={() => {
            setAccount(undefined)
            setTarget({ serverUrl: serverInput.trim(), slot: slotInput.trim() })
          }}
        >
          Use
        </button>
      </section>
      <BetterAuthProvider key={`${target.slot} ${target.serverUrl}`} create={create}>
        <AccountPanels account={account} report={report} />
      </BetterAuthProvider>
      <section>
        <h2>Result</h2>
        <pre id="result" data-state={result.state} data-seq={result.seq}>
          {result.text}
        </pre>
      </section>
    </>
  )
}

function describe(error: unknown): string {
  if (error instanceof BetterAuthError) return `error ${error.code} ${error.name}: ${error.message}`
  return `error ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`
}

/** `YYYY-MM-DD hh:mm:ss` of `date`, with the epoch milliseconds for tests in `data-ms`. */
function Instant({ id, date }: { readonly id: string; readonly date: Date | undefined }) {
  return (
    <dd id={id} data-ms={date?.getTime() ?? ''}>
      {date === undefined ? '–' : date.toISOString().replace('T', ' ').slice(0, 19)}
    </dd>
  )
}

function AccountPanels({
  account,
  report,
}: {
  readonly account: Account | undefined
  readonly report: Report
}): ReactNode {
  const { loading, view, error } = useSession()
  const auth = useAuth()
  const access = useAccess()
  const [persistence, setPersistence] = useState('–')
  const [recoveryKit, setRecoveryKit] = useState<string>()
  const [linkIdentity, setLinkIdentity] = useState('')
  const [containerOut, setContainerOut] = useState('')
  const [containerIn, setContainerIn] = useState('')
  const [unlinkDevice, setUnlinkDevice] = useState('')
  const [recoveryInput, setRecoveryInput] = useState('')

  // `data-ready` tells tests (and styles) that the stored session has been read after a (re)load.
  useEffect(() => {
    document.body.dataset['ready'] = loading ? 'false' : 'true'
  }, [loading])
  useEffect(() => {
    void requestPersistentStorage().then(setPersistence)
  }, [])
  useEffect(() => {
    if (error === undefined) return
    // Opening the stores or reading the session failed (storage unavailable, bad server URL).
    report(() => Promise.reject(error instanceof Error ? error : new Error(describe(error))))
  }, [error, report])

  /**
   * Runs one user action under a Web Lock per account, so two tabs of the same account never
   * interleave one rotation's prepare and commit. (Automatic refreshes take the session's own
   * lock, `better-auth:refresh:<namespace>`.)
   */
  const act = (task: (active: Account) => Promise<string>) => () =>
    report(async () => {
      const active = account
      if (active === undefined || loading)
        throw new InvalidStateError('the account is not loaded yet')
      const lock = `better-auth:${active.stores.namespace}`
      return navigator.locks === undefined
        ? task(active)
        : navigator.locks.request(lock, () => task(active))
    })

  const button = (id: string, label: string, task: (active: Account) => Promise<string>) => (
    <button id={id} onClick={act(task)}>
      {label}
    </button>
  )

  return (
    <>
      <section>
        <h2>Session</h2>
        <dl id="status">
          <dt>Identity</dt>
          <dd id="identity">{view?.identity ?? '–'}</dd>
          <dt>This device</dt>
          <dd id="device">{view?.device ?? '–'}</dd>
          <dt>Session</dt>
          <dd id="session">{loading ? 'loading' : (view?.status ?? '–')}</dd>
          <dt>Access token until</dt>
          <Instant id="access-expiry" date={view?.accessExpiry} />
          <dt>Refreshable until</dt>
          <Instant id="refresh-expiry" date={view?.refreshExpiry} />
          <dt>Storage</dt>
          <dd id="persistence">{persistence}</dd>
        </dl>
      </section>

      <section>
        <h2>Account</h2>
        {button('create-account', 'Create account', async (active) => {
          await pinResponseKey(active)
          const { secret, key } = generateRecoverySecret()
          const { identity, device } = await auth.createAccount(
            await hasher.sum(await key.public()),
          )
          setRecoveryKit(formatRecoveryKit(identity, secret))
          return `account created: identity ${identity}, device ${device}`
        })}
        {button('sign-in', 'Sign in', async () => {
          await auth.signIn()
          return 'signed in'
        })}
        {button('call-foo', 'Call /foo/bar', async () => {
          const answer = await access('/foo/bar', { foo: 'hello', bar: 'world' })
          return `/foo/bar answered ${JSON.stringify(answer)}`
        })}
        {button('rotate', 'Rotate device key', async () => {
          await auth.rotateDevice()
          return 'device key rotated'
        })}
        {button('refresh', 'Refresh session', async () => {
          await auth.refresh()
          return 'session refreshed'
        })}
        {button('sign-out', 'Sign out', async () => {
          await auth.signOut()
          return 'signed out (this device stays linked: sign in again any time)'
        })}
        {button('forget', 'Forget this browser', async () => {
          await auth.signOut({ forgetDevice: true })
          return 'this browser forgot the account (the server still knows the device: unlink it)'
        })}
        <div id="recovery-kit-box" hidden={recoveryKit === undefined}>
          <p>
            <strong>Save your recovery kit now.</strong> It is shown once and never stored here: it
            is the only way back in if this browser loses its data.
          </p>
          <textarea id="recovery-kit" rows={3} cols={70} readOnly value={recoveryKit ?? ''} />
          <button id="recovery-saved" onClick={() => setRecoveryKit(undefined)}>
            I saved it
          </button>
        </div>
      </section>

      <section>
        <h2>Link a device</h2>
        <p>
          On the <em>new</em> device: enter the account identity and prepare a link container. It is
          shown as a QR code to scan and as text to copy.
        </p>
        <label>
          Identity{' '}
          <input
            id="link-identity"
            size={48}
            autoComplete="off"
            spellCheck={false}
            value={linkIdentity}
            onChange={(event) => setLinkIdentity(event.target.value)}
          />
        </label>{' '}
        {button('prepare-link', 'Prepare link container', async (active) => {
          await pinResponseKey(active)
          setContainerOut(await auth.generateLinkContainer(linkIdentity.trim()))
          return 'link container ready: scan or paste it on a device of this account'
        })}
        {containerOut !== '' && (
          <div id="link-container-box">
            <LinkQrCode payload={containerOut} />
            <textarea id="link-container-out" rows={4} cols={70} readOnly value={containerOut} />
            <button
              id="copy-link"
              onClick={() =>
                report(async () => {
                  await navigator.clipboard.writeText(containerOut)
                  return 'link container copied'
                })
              }
            >
              Copy
            </button>
          </div>
        )}
        <p>
          On the <em>existing</em> device: scan the QR code (a photo or screenshot of it) or paste
          the copied text, then link it.
        </p>
        <label>
          Scan a picture of its QR code{' '}
          <input
            id="scan-qr-picture"
            type="file"
            accept="image/*"
            // On phones this offers the camera: a photo of the other screen is enough.
            capture="environment"
            onChange={(event) => {
              const picture = event.target.files?.[0]
              event.target.value = ''
              if (picture === undefined) return
              report(async () => {
                const container = await readQrCode(picture)
                setContainerIn(container)
                return 'QR code read: check it is the new device, then link it'
              })
            }}
          />
        </label>
        <textarea
          id="link-container-in"
          rows={4}
          cols={70}
          spellCheck={false}
          value={containerIn}
          onChange={(event) => setContainerIn(event.target.value)}
        />
        {button('link-device', 'Link device', async () => {
          const container = containerIn.trim()
          if (container === '') {
            throw new InvalidMessageError('container', 'paste a link container first')
          }
          await auth.linkDevice(container)
          return 'device linked'
        })}
      </section>

      <section>
        <h2>Unlink a device</h2>
        <label>
          Device{' '}
          <input
            id="unlink-device"
            size={48}
            autoComplete="off"
            spellCheck={false}
            value={unlinkDevice}
            onChange={(event) => setUnlinkDevice(event.target.value)}
          />
        </label>{' '}
        {button('unlink', 'Unlink', async () => {
          const device = unlinkDevice.trim()
          await auth.unlinkDevice(device)
          return `device ${device} unlinked`
        })}
      </section>

      <section>
        <h2>Recover</h2>
        <textarea
          id="recovery-input"
          rows={3}
          cols={70}
          spellCheck={false}
          placeholder="better-auth-recovery-v1.…"
          value={recoveryInput}
          onChange={(event) => setRecoveryInput(event.target.value)}
        />
        {button('recover', 'Recover account on this browser', async (active) => {
          const { identity, key } = parseRecoveryKit(recoveryInput)
          await pinResponseKey(active)
          // Recovery consumes the recovery key: the server stores the commitment to a new one.
          const next = generateRecoverySecret()
          await auth.recoverAccount(identity, key, await hasher.sum(await next.key.public()))
          setRecoveryKit(formatRecoveryKit(identity, next.secret))
          return 'account recovered on this browser; every other device was unlinked'
        })}
      </section>
    </>
  )
}
