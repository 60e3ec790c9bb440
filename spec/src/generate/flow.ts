import {
  BetterAuthClient,
  MemoryRotatingKeyStore,
  MemoryValueStore,
  MemoryVerificationKeyStore,
  type Network,
} from '@better-auth/client'
import {
  Blake3Hasher,
  DefaultIdentityVerifier,
  GzipTokenEncoder,
  NobleP256Verifier,
  Rfc3339Timestamper,
  SecureNoncer,
} from '@better-auth/crypto'
import {
  protocols,
  verificationKey,
  type JsonObject,
  type ProtocolName,
  type SigningKey,
} from '@better-auth/protocol'
import {
  AccessVerifier,
  BetterAuthServer,
  StaticVerificationKeyStore,
  errorResponse,
  memoryServerStores,
} from '@better-auth/server'
import { SteppingClock, deterministicKey, keySequence, seededRandom } from './deterministic.js'

/** When the recorded conversation starts, and how far the clock moves per request. */
export const START = Date.parse('2025-10-10T07:00:00.000Z')
export const STEP_MS = 1_000

/** The interop contract's access route and its token attributes. */
export const ACCESS_PATH = '/foo/bar'
const ATTRIBUTES: JsonObject = { permissionsByRole: { admin: ['read', 'write'] } }

/** One request as the client sent it and the text the server answered, both verbatim. */
export interface Exchange {
  readonly path: string
  readonly request: string
  readonly response: string
}

export interface Recording {
  /** Every exchange on the network, in order. */
  readonly exchanges: readonly Exchange[]
  /** The link container device-2 handed to device-1 (it never crosses the network by itself). */
  readonly linkContainer: string
}

const hasher = new Blake3Hasher()
const verifier = new NobleP256Verifier()
const tokenEncoder = new GzipTokenEncoder()

/** Labels of every key in the examples; anyone can recompute them, which is the point. */
const label = (name: string): string => `example/${name}`

/** One server, one clock and one recording network, shared by every client of the run. */
async function createWorld() {
  const clock = new SteppingClock(START, STEP_MS)
  const timestamper = new Rfc3339Timestamper({ clock: clock.now })
  const responseKey = deterministicKey(label('server/response'))
  const accessKey = deterministicKey(label('server/access'))
  const responseIdentity = await responseKey.public()
  const stores = memoryServerStores()
  const server = new BetterAuthServer({
    crypto: {
      hasher,
      noncer: new SecureNoncer({ random: seededRandom(label('server/nonces')) }),
      verifier,
      keyPairs: { response: responseKey, access: accessKey },
    },
    encoding: { timestamper, tokenEncoder, identityVerifier: new DefaultIdentityVerifier(hasher) },
    stores,
    attributes: () => ATTRIBUTES,
  })
  // The application side trusts the access key by its public half only, as a separate service
  // would.
  const accessVerifier = new AccessVerifier({
    crypto: { verifier },
    encoding: { timestamper, tokenEncoder },
    stores: {
      accessNonce: stores.accessNonce,
      accessVerificationKeys: new StaticVerificationKeyStore([
        verificationKey(await accessKey.public(), verifier),
      ]),
    },
  })

  const routes = new Map<string, (message: string) => Promise<string>>()
  for (const name of Object.keys(protocols) as ProtocolName[]) {
    routes.set(protocols[name].path, (message) => server.handle(name, message))
  }
  routes.set(ACCESS_PATH, async (message) => {
    const verified = await accessVerifier.verify<{ foo: string; bar: string }>(message)
    const { foo, bar } = verified.request
    return server.accessResponse(verified.nonce, { wasFoo: foo, wasBar: bar })
  })

  const exchanges: Exchange[] = []
  const network: Network = {
    async sendRequest(path, request) {
      clock.tick()
      const route = routes.get(path)
      let response: string
      try {
        if (route === undefined) throw new Error(`no route ${path}`)
        response = await route(request)
      } catch (error) {
        // Answered the way an HTTP server would, so the client raises its typed error.
        response = errorResponse(error)
      }
      exchanges.push({ path, request, response })
      return response
    },
  }

  /** A client on its own device: its key chains and nonces are seeded by the device's name. */
  const newClient = async (device: string): Promise<BetterAuthClient> => {
    const responseKeys = new MemoryVerificationKeyStore()
    // Clients pin the server's response key by its public half.
    await responseKeys.add(verificationKey(responseIdentity, verifier))
    return new BetterAuthClient({
      crypto: {
        hasher,
        noncer: new SecureNoncer({ random: seededRandom(label(`${device}/nonces`)) }),
      },
      encoding: { timestamper },
      io: { network },
      stores: {
        identity: new MemoryValueStore(),
        device: new MemoryValueStore(),
        accessToken: new MemoryValueStore(),
        authenticationKey: new MemoryRotatingKeyStore({
          generate: keySequence(label(`${device}/authentication`)),
          hasher,
        }),
        accessKey: new MemoryRotatingKeyStore({
          generate: keySequence(label(`${device}/access`)),
          hasher,
        }),
        responseKeys,
      },
    })
  }

  return { exchanges, newClient }
}

async function commitmentTo(key: SigningKey): Promise<string> {
  return hasher.sum(await key.public())
}

/**
 * One account's life through every protocol, each used exactly once:
 * device-1 creates the account, rotates, opens a session, refreshes it and calls the access
 * route; device-2 joins through a link container and unlinks device-1, then replaces the
 * recovery key; device-3 recovers the account with that key and finally deletes it.
 */
export async function recordFlow(): Promise<Recording> {
  const { exchanges, newClient } = await createWorld()
  const recoveryKeys = keySequence(label('recovery'))
  const firstRecoveryKey = recoveryKeys()

  const device1 = await newClient('device-1')
  const { identity, device: firstDevice } = await device1.createAccount(
    await commitmentTo(firstRecoveryKey),
  )
  await device1.rotateDevice()
  await device1.createSession()
  await device1.refreshSession()
  const answer = await device1.makeAccessRequest(ACCESS_PATH, { foo: 'bar', bar: 'foo' })
  if (JSON.stringify(answer) !== '{"wasFoo":"bar","wasBar":"foo"}') {
    throw new Error(`unexpected access response ${JSON.stringify(answer)}`)
  }

  const device2 = await newClient('device-2')
  const linkContainer = await device2.generateLinkContainer(identity)
  await device1.linkDevice(linkContainer)
  await device2.unlinkDevice(firstDevice)
  const secondRecoveryKey = recoveryKeys()
  await device2.changeRecoveryKey(await commitmentTo(secondRecoveryKey))

  const device3 = await newClient('device-3')
  await device3.recoverAccount(identity, secondRecoveryKey, await commitmentTo(recoveryKeys()))
  await device3.deleteAccount()

  return { exchanges, linkContainer }
}
