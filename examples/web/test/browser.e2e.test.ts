/**
 * The web app in a real Chromium against the real example server: account creation, a reload,
 * device linking by QR code and by copy and paste, unlinking, and recovery from the saved recovery
 * kit. Proves that non-extractable CryptoKeys survive in IndexedDB, that a rotation interrupted by
 * a reload is retried with the same keys, that a refused recovery or a failed sign-in leaves the
 * device's stored key chains and session working, and (against a server with 8-second access
 * tokens) that a page left open stays signed in, that two tabs refresh once, not twice, and that
 * signing out in one tab signs out the other.
 */
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  buildWebApp,
  serveStatic,
  startExampleServer,
  type RunningServer,
  type StaticSite,
} from './processes.js'

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium'
const hasChromium = existsSync(CHROMIUM)
const artifacts = fileURLToPath(new URL('../../../test-artifacts/web-e2e/', import.meta.url))

if (!hasChromium) {
  console.warn(
    `browser e2e skipped: no Chromium at ${CHROMIUM} (install Debian's: apt-get install -y chromium)`,
  )
}

/** (Re)loads `url`, or reloads the page, and waits until the app has read its stored state. */
async function load(page: Page, url?: string): Promise<void> {
  await (url === undefined ? page.reload() : page.goto(url))
  await page.waitForSelector('body[data-ready="true"]', { state: 'attached' })
}

/** Clicks `button` and waits for the app to report that action's result. */
async function act(page: Page, button: string): Promise<{ state: string; text: string }> {
  const result = page.locator('#result')
  const before = Number(await result.getAttribute('data-seq'))
  await page.click(`#${button}`)
  await page.waitForFunction(
    (seq) => Number(document.getElementById('result')?.dataset['seq']) > seq,
    before,
    { timeout: 30_000 },
  )
  return {
    state: (await result.getAttribute('data-state')) ?? '',
    text: (await result.textContent()) ?? '',
  }
}

async function ok(page: Page, button: string): Promise<string> {
  const { state, text } = await act(page, button)
  expect(text, `#${button}`).toMatch(/^ok /)
  expect(state).toBe('ok')
  return text
}

/** What the page itself can see in IndexedDB about one of its key chains. */
function inspectChain(
  page: Page,
  namespace: string,
  kind: 'authenticationKey' | 'accessKey' = 'authenticationKey',
) {
  const key: [string, string] = [namespace, kind]
  return page.evaluate(async (key) => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const request = indexedDB.open('better-auth')
      request.onsuccess = () => resolve(request.result)
      request.onerror = () => reject(request.error ?? new Error('open failed'))
    })
    type Stored = { keyPair: CryptoKeyPair; publicKey: string }
    type Chain = { current: Stored; next: Stored; pending?: { rotationHash: string } }
    const chain = await new Promise<Chain>((resolve, reject) => {
      const store = db.transaction('chains').objectStore('chains')
      const request = store.get(key)
      request.onsuccess = () => resolve(request.result as Chain)
      request.onerror = () => reject(request.error ?? new Error('read failed'))
    })
    db.close()
    let exported = 'exported'
    try {
      await crypto.subtle.exportKey('jwk', chain.current.keyPair.privateKey)
    } catch (error) {
      exported = `refused: ${(error as Error).name}`
    }
    return {
      isCryptoKey: chain.current.keyPair.privateKey instanceof CryptoKey,
      extractable: chain.current.keyPair.privateKey.extractable,
      exported,
      next: chain.next.publicKey,
      pending: chain.pending?.rotationHash,
    }
  }, key)
}

const ACCESS_LIFETIME_MS = 8_000
const REFRESH_MARGIN_MS = 3_000

/** Every request of `page` that failed or was answered with an error status, as text. */
function failedRequests(page: Page): string[] {
  const failed: string[] = []
  page.on('requestfailed', (request) => {
    failed.push(`${request.method()} ${request.url()}: ${request.failure()?.errorText}`)
  })
  page.on('response', (response) => {
    if (response.status() >= 400) failed.push(`${response.status()} ${response.url()}`)
  })
  return failed
}

/** The access token's expiry the page shows, in epoch milliseconds (0 for none). */
async function accessExpiry(page: Page): Promise<number> {
  return Number(await page.getAttribute('#access-expiry', 'data-ms'))
}

describe.skipIf(!hasChromium)('the web app in Chromium', () => {
  let workDir: string
  let site: StaticSite
  let server: RunningServer
  /** Access tokens live 8 s here; the app refreshes 3 s before expiry, so every 5 s. */
  let shortLived: RunningServer
  let browser: Browser
  const contexts: BrowserContext[] = []
  const pages: Page[] = []

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'better-auth-web-'))
    await buildWebApp(join(workDir, 'dist'))
    site = await serveStatic(join(workDir, 'dist'))
    ;[server, shortLived] = await Promise.all([
      startExampleServer(join(workDir, 'data'), site.origin),
      startExampleServer(join(workDir, 'data-short-lived'), site.origin, {
        env: { ACCESS_LIFETIME_MS: String(ACCESS_LIFETIME_MS) },
      }),
    ])
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      timeout: 30_000,
      // Playwright launches with a fresh temporary profile (--user-data-dir) of its own.
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    })
  })

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => undefined)
    await browser?.close()
    await server?.stop()
    await shortLived?.stop()
    await site?.close()
    if (workDir !== undefined) await rm(workDir, { recursive: true, force: true })
  })

  /**
   * A new browser profile (its own IndexedDB, so a separate device) with one tab of the app on
   * `on` (the server with default lifetimes unless told otherwise).
   */
  async function device(on: RunningServer = server): Promise<Page> {
    const context = await browser.newContext({
      viewport: { width: 1000, height: 1400 },
      // The Copy button of the link container writes the clipboard; tests read it back.
      permissions: ['clipboard-read', 'clipboard-write'],
    })
    contexts.push(context)
    // Only the two local servers may be reached; anything else fails loudly.
    await context.route(
      (url) => url.hostname !== '127.0.0.1',
      (route) => route.abort('blockedbyclient'),
    )
    return tab(context, on)
  }

  /** Another tab of the app in `context`: same origin, same IndexedDB, same account. */
  async function tab(context: BrowserContext, on: RunningServer = server): Promise<Page> {
    const page = await context.newPage()
    pages.push(page)
    page.setDefaultTimeout(20_000)
    const query = new URLSearchParams({ server: on.url })
    if (on === shortLived) query.set('refreshMarginMs', String(REFRESH_MARGIN_MS))
    await load(page, `${site.origin}/?${query.toString()}`)
    return page
  }

  /** On failure, keeps what every device showed: the result line usually names the error code. */
  async function screenshotEveryDevice(): Promise<void> {
    await mkdir(artifacts, { recursive: true })
    for (const [index, page] of pages.entries()) {
      const path = join(artifacts, `failure-device-${index + 1}.png`)
      await page.screenshot({ path, fullPage: true }).catch(() => undefined)
    }
  }

  it('creates, reloads, links, unlinks and recovers an account', async ({ onTestFailed }) => {
    onTestFailed(screenshotEveryDevice)
    // The app's namespace for the default account slot on this server.
    const namespace = `default@${server.url}`
    // Device A creates the account and shows the recovery kit once.
    const a = await device()
    await ok(a, 'create-account')
    const recoveryKit = await a.inputValue('#recovery-kit')
    expect(recoveryKit).toMatch(/^better-auth-recovery-v1\.E[\w-]{43}\.[\w-]{43}$/)
    const identity = (await a.textContent('#identity'))!
    const deviceA = (await a.textContent('#device'))!
    expect(recoveryKit).toContain(identity)
    await a.click('#recovery-saved')
    expect(await a.inputValue('#recovery-kit')).toBe('')

    // The keys are CryptoKeys in IndexedDB that the page itself cannot export.
    const chain = await inspectChain(a, namespace)
    expect(chain).toMatchObject({ isCryptoKey: true, extractable: false })
    expect(chain.exported).toMatch(/^refused/)

    // A reload keeps everything: sign in and call the access route.
    await load(a)
    expect(await a.textContent('#identity')).toBe(identity)
    await ok(a, 'sign-in')
    expect(await ok(a, 'call-foo')).toContain('{"wasFoo":"hello","wasBar":"world"}')

    // A rotation cut off by the network, then the tab reloaded: the retry sends the same keys.
    const sent: string[] = []
    await a.route('**/device/rotate', async (route) => {
      sent.push(route.request().postData() ?? '')
      await (sent.length === 1 ? route.abort('connectionreset') : route.continue())
    })
    expect((await act(a, 'rotate')).text).toMatch(/^error BA801/)
    const prepared = await inspectChain(a, namespace)
    expect(prepared.pending).toBeDefined()
    await load(a)
    expect((await inspectChain(a, namespace)).pending).toBe(prepared.pending)
    await ok(a, 'rotate')
    const revealed = (body: string) =>
      (JSON.parse(body) as { payload: { request: unknown } }).payload.request
    expect(sent).toHaveLength(2)
    expect(revealed(sent[1]!)).toEqual(revealed(sent[0]!))
    const rotated = await inspectChain(a, namespace)
    expect(rotated.pending).toBeUndefined()
    await a.unroute('**/device/rotate')

    // Device B joins: identity copied from A, link container copied from B back to A.
    const b = await device()
    await b.fill('#link-identity', identity)
    await ok(b, 'prepare-link')
    const container = await b.inputValue('#link-container-out')
    expect(container).toMatch(/^\{"payload":\{"authentication":/)
    await a.fill('#link-container-in', container)
    expect(await ok(a, 'link-device')).toContain('device linked')
    const deviceB = (await b.textContent('#device'))!
    expect(deviceB).not.toBe(deviceA)
    await ok(b, 'sign-in')
    expect(await ok(b, 'call-foo')).toContain('"wasFoo":"hello"')

    // B unlinks A; A can no longer refresh its session.
    await b.fill('#unlink-device', deviceA)
    await ok(b, 'unlink')
    const refused = await act(a, 'refresh')
    expect(refused.state).toBe('error')
    expect(refused.text).toMatch(/^error BA103/)
    await ok(b, 'refresh')

    // A fresh browser recovers with the saved kit; the other devices are revoked.
    const c = await device()
    await c.fill('#recovery-input', recoveryKit)
    await ok(c, 'recover')
    expect(await c.textContent('#identity')).toBe(identity)
    const nextKit = await c.inputValue('#recovery-kit')
    expect(nextKit).toMatch(/^better-auth-recovery-v1\./)
    expect(nextKit).not.toBe(recoveryKit)
    await ok(c, 'sign-in')
    expect(await ok(c, 'call-foo')).toContain('{"wasFoo":"hello","wasBar":"world"}')
    expect((await act(b, 'refresh')).text).toMatch(/^error BA103/)
    // The spent kit no longer recovers anything.
    const d = await device()
    await d.fill('#recovery-input', recoveryKit)
    expect((await act(d, 'recover')).text).toMatch(/^error BA104/)

    await mkdir(artifacts, { recursive: true })
    await c.screenshot({ path: join(artifacts, 'recovered.png'), fullPage: true })
    await a.screenshot({ path: join(artifacts, 'unlinked-device-refresh.png'), fullPage: true })
  })

  it('keeps the chains and session through a refused recovery and failed sign-ins', async ({
    onTestFailed,
  }) => {
    onTestFailed(screenshotEveryDevice)
    const namespace = `default@${server.url}`
    const e = await device()
    await ok(e, 'create-account')
    await e.click('#recovery-saved')
    const identity = (await e.textContent('#identity'))!
    const deviceE = (await e.textContent('#device'))!
    // The challenge answered by this sign-in is spent once the session exists.
    let spentChallenge: string | undefined
    const challengeOf = (body: string) =>
      (JSON.parse(body) as { payload: { request: { authentication: { nonce: string } } } }).payload
        .request.authentication.nonce
    await e.route('**/session/create', async (route) => {
      spentChallenge = challengeOf(route.request().postData() ?? '')
      await route.continue()
    })
    await ok(e, 'sign-in')
    await e.unroute('**/session/create')
    expect(spentChallenge).toMatch(/^0A[\w-]{22}$/)
    expect(await e.textContent('#session')).toBe('signed-in')
    expect(await ok(e, 'call-foo')).toContain('{"wasFoo":"hello","wasBar":"world"}')

    /** Everything a working device needs: access, a refreshed session, a rotation, in that order. */
    async function stillWorks(): Promise<void> {
      expect(await e.textContent('#identity')).toBe(identity)
      expect(await e.textContent('#device')).toBe(deviceE)
      expect(await e.textContent('#session')).toBe('signed-in')
      expect(await ok(e, 'call-foo')).toContain('{"wasFoo":"hello","wasBar":"world"}')
      await ok(e, 'refresh')
      expect(await ok(e, 'call-foo')).toContain('{"wasFoo":"hello","wasBar":"world"}')
      await ok(e, 'rotate')
    }

    // 1. A recovery kit for this identity with the wrong secret: the server refuses it (the
    // recovery hash does not match) and the device keeps its chain, its session and its account.
    const authenticationBefore = await inspectChain(e, namespace)
    const accessBefore = await inspectChain(e, namespace, 'accessKey')
    const wrongKit = `better-auth-recovery-v1.${identity}.${randomBytes(32).toString('base64url')}`
    const recovered: string[] = []
    await e.route('**/account/recover', async (route) => {
      const response = await route.fetch()
      recovered.push(`${response.status()} ${await response.text()}`)
      await route.fulfill({ response })
    })
    await e.fill('#recovery-input', wrongKit)
    const refusedRecovery = await act(e, 'recover')
    await e.unroute('**/account/recover')
    expect(refusedRecovery.state).toBe('error')
    expect(refusedRecovery.text).toMatch(
      /^error BA104 InvalidHashError: Hash validation failed \(recovery\)/,
    )
    // It was the server that refused, not the client before sending.
    expect(recovered).toHaveLength(1)
    expect(recovered[0]).toMatch(/^4\d\d .*BA104/)
    expect(await e.isHidden('#recovery-kit-box')).toBe(true)
    expect(await inspectChain(e, namespace)).toEqual(authenticationBefore)
    expect(await inspectChain(e, namespace, 'accessKey')).toEqual(accessBefore)
    await stillWorks()
    await load(e)
    await stillWorks()

    // 2. Sign-ins that fail three ways leave the previous session usable, also after a reload:
    // the request never reaches the server; the server refuses a spent challenge; the server
    // issues a session whose response is lost on the way back.
    const sessionBefore = await inspectChain(e, namespace, 'accessKey')
    let tries = 0
    const answered: number[] = []
    await e.route('**/session/create', async (route) => {
      tries += 1
      if (tries === 1) {
        await route.abort('connectionreset')
      } else if (tries === 2) {
        // The signature covers the challenge, but the server consumes the challenge first.
        const body = route.request().postData() ?? ''
        const postData = body.replace(challengeOf(body), spentChallenge!)
        const response = await route.fetch({ postData })
        answered.push(response.status())
        await route.fulfill({ response })
      } else {
        const response = await route.fetch()
        answered.push(response.status())
        await route.abort('connectionreset')
      }
    })
    const unreached = await act(e, 'sign-in')
    expect(unreached).toMatchObject({ state: 'error' })
    expect(unreached.text).toMatch(/^error BA801 NetworkError/)
    expect(await inspectChain(e, namespace, 'accessKey')).toEqual(sessionBefore)
    expect(await ok(e, 'call-foo')).toContain('"wasFoo":"hello"')

    const spent = await act(e, 'sign-in')
    expect(spent).toMatchObject({ state: 'error' })
    expect(spent.text).toMatch(/^error BA204 ExpiredNonceError: .*challenge/)
    expect(answered).toEqual([401])
    expect(await inspectChain(e, namespace, 'accessKey')).toEqual(sessionBefore)
    expect(await ok(e, 'call-foo')).toContain('"wasFoo":"hello"')

    const lost = await act(e, 'sign-in')
    expect(lost).toMatchObject({ state: 'error' })
    expect(lost.text).toMatch(/^error BA801 NetworkError/)
    // The server did issue that session; only its response went missing.
    expect(tries).toBe(3)
    expect(answered).toEqual([401, 200])
    expect(await inspectChain(e, namespace, 'accessKey')).toEqual(sessionBefore)
    await e.unroute('**/session/create')

    expect(await e.textContent('#session')).toBe('signed-in')
    expect(await ok(e, 'call-foo')).toContain('{"wasFoo":"hello","wasBar":"world"}')
    await load(e)
    expect(await e.textContent('#session')).toBe('signed-in')
    expect(await ok(e, 'call-foo')).toContain('{"wasFoo":"hello","wasBar":"world"}')
    await ok(e, 'refresh')
    expect(await ok(e, 'call-foo')).toContain('{"wasFoo":"hello","wasBar":"world"}')
    // And signing in again simply works, replacing the access chain this time.
    const refreshed = await inspectChain(e, namespace, 'accessKey')
    await ok(e, 'sign-in')
    expect((await inspectChain(e, namespace, 'accessKey')).next).not.toBe(refreshed.next)
    expect(await ok(e, 'call-foo')).toContain('{"wasFoo":"hello","wasBar":"world"}')
  })

  it('links a second browser context by scanning the QR code of its link container', async ({
    onTestFailed,
  }) => {
    onTestFailed(screenshotEveryDevice)
    const a = await device()
    await ok(a, 'create-account')
    await a.click('#recovery-saved')
    await ok(a, 'sign-in')
    const identity = (await a.textContent('#identity'))!

    // The new device (another profile) shows its link container as a QR code.
    const b = await device()
    await b.fill('#link-identity', identity)
    await ok(b, 'prepare-link')
    await b.waitForSelector('#link-qr[data-drawn="true"]')
    const meant = (await b.getAttribute('#link-qr', 'data-payload'))!
    expect(meant).toBe(await b.inputValue('#link-container-out'))
    // The same text is there to copy and paste.
    await ok(b, 'copy-link')
    expect(await b.evaluate(() => navigator.clipboard.readText())).toBe(meant)

    expect(meant).toMatch(/^\{"payload":\{"authentication":/)

    // The existing device scans a picture of the code (a screenshot of the other browser's
    // rendered code, as a camera would take one), decodes exactly the text meant, and links the
    // new device.
    const picture = await b.locator('#link-qr').screenshot({ type: 'png' })
    const seq = Number(await a.getAttribute('#result', 'data-seq'))
    await a.setInputFiles('#scan-qr-picture', {
      name: 'link-code.png',
      mimeType: 'image/png',
      buffer: picture,
    })
    await a.waitForFunction(
      (seq) => Number(document.getElementById('result')?.dataset['seq']) > seq,
      seq,
    )
    expect(await a.textContent('#result')).toMatch(/^ok QR code read/)
    expect(await a.inputValue('#link-container-in')).toBe(meant)
    expect(await ok(a, 'link-device')).toContain('device linked')
    await ok(b, 'sign-in')
    expect(await b.textContent('#identity')).toBe(identity)
    expect(await b.textContent('#session')).toBe('signed-in')
    expect(await ok(b, 'call-foo')).toContain('{"wasFoo":"hello","wasBar":"world"}')
    await mkdir(artifacts, { recursive: true })
    await b.screenshot({ path: join(artifacts, 'link-qr.png'), fullPage: true })
  })

  it('stays signed in past the access-token lifetime with no user action', async ({
    onTestFailed,
  }) => {
    onTestFailed(screenshotEveryDevice)
    const page = await device(shortLived)
    const failed = failedRequests(page)
    await ok(page, 'create-account')
    await page.click('#recovery-saved')
    await ok(page, 'sign-in')
    const first = await accessExpiry(page)
    expect(first).toBeGreaterThan(Date.now())
    const refreshes = shortLived.requests('/session/refresh')

    // Nobody touches the page for longer than the first token lives.
    await page.waitForTimeout(first - Date.now() + 1_000)
    expect(await page.textContent('#session')).toBe('signed-in')
    expect(await accessExpiry(page)).toBeGreaterThan(Date.now())
    expect(shortLived.requests('/session/refresh')).toBeGreaterThan(refreshes)
    expect(failed).toEqual([])
    // The current token is good: the access request needs no refresh and nothing fails.
    expect(await ok(page, 'call-foo')).toContain('{"wasFoo":"hello","wasBar":"world"}')
    expect(failed).toEqual([])
    // Its refreshes would count in the next test's.
    await page.context().close()
  })

  it('refreshes once for two tabs of one origin, not twice', async ({ onTestFailed }) => {
    onTestFailed(screenshotEveryDevice)
    const one = await device(shortLived)
    await ok(one, 'create-account')
    await one.click('#recovery-saved')
    await ok(one, 'sign-in')
    const two = await tab(one.context(), shortLived)
    const failed = [one, two].map(failedRequests)
    expect(await two.textContent('#session')).toBe('signed-in')

    // Both tabs schedule each refresh for the same instant; one refreshes, the other adopts its
    // token. Each of two tokens in a row must cost exactly one refresh, counted once both tabs show
    // it, after a moment for the server's log to arrive.
    const bothShowNewer = async (than: number) => {
      let seen: number[] = []
      await expect
        .poll(
          async () => {
            seen = await Promise.all([one, two].map(accessExpiry))
            return seen[0]! > than && seen[1] === seen[0]
          },
          { timeout: ACCESS_LIFETIME_MS + 10_000, interval: 100 },
        )
        .toBe(true)
      await one.waitForTimeout(500)
      return { expiry: seen[0]!, refreshes: shortLived.requests('/session/refresh') }
    }
    // The first count is taken right after a refresh both tabs saw, so never near the next one.
    let previous = await bothShowNewer((await bothShowNewer(0)).expiry)
    for (const round of [1, 2]) {
      const next = await bothShowNewer(previous.expiry)
      expect(next.refreshes - previous.refreshes, `refreshes for token ${round}`).toBe(1)
      previous = next
    }
    expect(failed.flat()).toEqual([])
    await one.context().close()
  })

  it('signing out in one tab shows signed out in the other', async ({ onTestFailed }) => {
    onTestFailed(screenshotEveryDevice)
    // Default lifetimes: no refresh runs during this test, so only the sign-out can be noticed.
    const one = await device()
    await ok(one, 'create-account')
    await one.click('#recovery-saved')
    await ok(one, 'sign-in')
    const two = await tab(one.context())
    expect(await two.textContent('#session')).toBe('signed-in')
    const twoSeq = await two.getAttribute('#result', 'data-seq')

    await ok(one, 'sign-out')
    expect(await one.textContent('#session')).toBe('signed-out')
    // The other tab learns it without a reload or any action of its own.
    await two.waitForFunction(
      () => document.getElementById('session')?.textContent === 'signed-out',
      null,
      { timeout: 5_000 },
    )
    expect(await two.getAttribute('#result', 'data-seq')).toBe(twoSeq)
    expect(await two.getAttribute('#access-expiry', 'data-ms')).toBe('')
    // The device stays set up in both tabs: signing in again works from either.
    expect(await two.textContent('#identity')).toBe(await one.textContent('#identity'))
    await ok(two, 'sign-in')
    expect(await ok(two, 'call-foo')).toContain('{"wasFoo":"hello","wasBar":"world"}')
    await one.context().close()
  })
})
