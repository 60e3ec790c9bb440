import { BetterAuthSession, FetchNetwork } from '@better-auth/client'
import { openBrowserStores, type BrowserStores } from '@better-auth/client/browser'
import {
  Blake3Hasher,
  GzipTokenEncoder,
  Rfc3339Timestamper,
  SecureNoncer,
} from '@better-auth/crypto'
import { ConfigurationError, ProtocolError } from '@better-auth/protocol'

export const hasher = new Blake3Hasher()

export interface Account {
  readonly serverUrl: string
  readonly stores: BrowserStores
  readonly session: BetterAuthSession
}

export interface AccountOptions {
  /** How long before the access token expires the session refreshes it (see BetterAuthSession). */
  readonly refreshMarginMs?: number
}

/**
 * The session for one account slot against one server. The namespace includes the server's
 * origin, so pointing the app at another server never mixes keys, tokens or pinned response keys.
 */
export async function openAccount(
  serverUrl: string,
  slot: string,
  options: AccountOptions = {},
): Promise<Account> {
  let origin: string
  try {
    origin = new URL(serverUrl).origin
  } catch {
    throw new ConfigurationError('serverUrl', 'expected an absolute http(s) URL')
  }
  const stores = await openBrowserStores({ namespace: `${slot}@${origin}` })
  const session = new BetterAuthSession({
    crypto: { hasher, noncer: new SecureNoncer() },
    encoding: { timestamper: new Rfc3339Timestamper() },
    io: { network: new FetchNetwork(origin, { timeoutMs: 10_000 }) },
    stores,
    tokenEncoder: new GzipTokenEncoder(),
    // One refresh lock and one change channel per account: tabs of other accounts (slots,
    // servers) neither wait for nor hear each other.
    lockName: `better-auth:refresh:${stores.namespace}`,
    channelName: `better-auth:session:${stores.namespace}`,
    ...options,
  })
  return { serverUrl: origin, stores, session }
}

/**
 * Pins the server's response key on first use. A production app ships the key in its
 * configuration instead; fetching it here keeps the example runnable against any fresh server.
 */
export async function pinResponseKey(account: Account): Promise<string> {
  const pinned = await account.stores.responseKeys.list()
  if (pinned[0] !== undefined) return pinned[0]
  const response = await fetch(new URL('/key/response', account.serverUrl), { method: 'POST' })
  const key = (await response.text()).trim()
  if (!response.ok || !key.startsWith('1AAI')) {
    throw new ProtocolError(`no response key at ${account.serverUrl} (HTTP ${response.status})`)
  }
  await account.stores.responseKeys.add(key)
  return key
}
