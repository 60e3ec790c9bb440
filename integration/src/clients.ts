import {
  BetterAuthClient,
  FetchNetwork,
  MemoryRotatingKeyStore,
  MemoryValueStore,
  type Network,
} from '@better-auth/client'
import {
  Blake3Hasher,
  Rfc3339Timestamper,
  SecureNoncer,
  WebCryptoP256SigningKey,
  WebCryptoP256Verifier,
} from '@better-auth/crypto'
import {
  ProtocolError,
  verificationKey,
  type SigningKey,
  type VerificationKeyStore,
} from '@better-auth/protocol'
import type { WireResponse } from './adversarial/wire.js'

export const hasher = new Blake3Hasher()
const verifier = new WebCryptoP256Verifier()
export const generateKey = (): Promise<SigningKey> => WebCryptoP256SigningKey.generate()

/** Makes fresh clients (fresh devices) that talk to one server. */
export interface ClientFactory {
  newClient(): BetterAuthClient
}

export interface ClientFactoryOptions {
  /** The server's response public key; fetched from `/key/response` when absent. */
  readonly responseKey?: string
  /** Milliseconds added to the client's clock (for skew tests). */
  readonly clockOffsetMs?: number
  /** Overrides the HTTP transport, e.g. to tamper with traffic. */
  readonly network?: Network
  /** Sees every HTTP answer (status and body), to report what a foreign server sent. */
  readonly onAnswer?: (answer: WireResponse) => void
}

/** fetch, telling `onAnswer` each status and body before the client reads it. */
function recordingFetch(onAnswer: (answer: WireResponse) => void): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, init)
    const text = await response.text()
    onAnswer({ kind: 'response', status: response.status, text })
    return new Response(text === '' ? null : text, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    })
  }
}

/** Fetches the response key a server publishes, as the interop contract specifies. */
export async function fetchResponseKey(baseUrl: string): Promise<string> {
  const response = await fetch(new URL('/key/response', baseUrl), { method: 'POST' })
  const text = (await response.text()).trim()
  if (!response.ok || !text.startsWith('1AAI')) {
    throw new ProtocolError(`no response key at ${baseUrl}/key/response (HTTP ${response.status})`)
  }
  return text
}

export async function httpClients(
  baseUrl: string,
  options: ClientFactoryOptions = {},
): Promise<ClientFactory> {
  const responseKey = options.responseKey ?? (await fetchResponseKey(baseUrl))
  const onAnswer = options.onAnswer
  const network =
    options.network ??
    new FetchNetwork(baseUrl, onAnswer === undefined ? {} : { fetch: recordingFetch(onAnswer) })
  return clientsOver(network, responseKey, options.clockOffsetMs ?? 0)
}

/** Trusts exactly one server response key. */
export function pinnedKeys(responseKey: string): VerificationKeyStore {
  const pinned = verificationKey(responseKey, verifier)
  return {
    get: (identity) =>
      identity === responseKey
        ? Promise.resolve(pinned)
        : Promise.reject(new ProtocolError('unknown server response key')),
  }
}

export function clientsOver(
  network: Network,
  responseKey: string,
  clockOffsetMs = 0,
): ClientFactory {
  const responseKeys = pinnedKeys(responseKey)
  return {
    newClient() {
      return new BetterAuthClient({
        crypto: { hasher, noncer: new SecureNoncer() },
        encoding: {
          timestamper: new Rfc3339Timestamper({ clock: () => Date.now() + clockOffsetMs }),
        },
        io: { network },
        stores: {
          identity: new MemoryValueStore(),
          device: new MemoryValueStore(),
          accessToken: new MemoryValueStore(),
          authenticationKey: new MemoryRotatingKeyStore({ generate: generateKey, hasher }),
          accessKey: new MemoryRotatingKeyStore({ generate: generateKey, hasher }),
          responseKeys,
        },
      })
    },
  }
}
