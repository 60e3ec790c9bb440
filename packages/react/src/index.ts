/**
 * React bindings for the better-auth client: provider, useSession, useAuth, useAccess.
 *
 * @module @better-auth/react
 */
import type { AccountIds, BetterAuthSession, SessionChange, SessionView } from '@better-auth/client'
import { InvalidStateError, type JsonValue, type SigningKey } from '@better-auth/protocol'
import {
  createContext,
  createElement,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useState,
  useSyncExternalStore,
  type ReactNode,
} from 'react'

/** What useSession() returns. `loading` until the session was read on the client. */
export interface SessionState {
  readonly loading: boolean
  readonly view: SessionView | undefined
  /** The last change notified, e.g. to show "session expired" on `refresh-impossible`. */
  readonly lastChange: SessionChange | undefined
  /** Set when creating or loading the session failed (storage unavailable, …). */
  readonly error: unknown
}

interface Store {
  readonly subscribe: (onChange: () => void) => () => void
  readonly snapshot: () => SessionState
  readonly session: () => BetterAuthSession | undefined
}

const LOADING: SessionState = Object.freeze({
  loading: true,
  view: undefined,
  lastChange: undefined,
  error: undefined,
})

const Context = createContext<Store | undefined>(undefined)

export interface BetterAuthProviderProps {
  /**
   * Creates (and usually loads nothing yet) the session. Called once, in an effect: never during
   * server rendering, so IndexedDB and Web Crypto are only touched in the browser.
   */
  readonly create: () => BetterAuthSession | Promise<BetterAuthSession>
  readonly children?: ReactNode
}

/** Holds one BetterAuthSession for the components below it. */
export function BetterAuthProvider({ create, children }: BetterAuthProviderProps): ReactNode {
  const [store] = useState(() => createStore())
  useEffect(() => store.start(create), [store, create])
  return createElement(Context.Provider, { value: store }, children)
}

function createStore(): Store & { start(create: BetterAuthProviderProps['create']): () => void } {
  let state = LOADING
  let session: BetterAuthSession | undefined
  const listeners = new Set<() => void>()
  const set = (next: SessionState) => {
    state = next
    for (const listener of [...listeners]) listener()
  }
  return {
    subscribe(onChange) {
      listeners.add(onChange)
      return () => listeners.delete(onChange)
    },
    snapshot: () => state,
    session: () => session,
    start(create) {
      let stopped = false
      let unsubscribe = () => {}
      void (async () => {
        try {
          const created = await create()
          if (stopped) return
          session = created
          unsubscribe = created.subscribe((change, view) =>
            set({ loading: false, view, lastChange: change, error: undefined }),
          )
          const view = await created.load()
          if (!stopped) set({ loading: false, view, lastChange: undefined, error: undefined })
        } catch (error) {
          if (!stopped) set({ loading: false, view: undefined, lastChange: undefined, error })
        }
      })()
      return () => {
        stopped = true
        unsubscribe()
        session?.stop()
        session = undefined
      }
    },
  }
}

function useStore(): Store {
  const store = useContext(Context)
  if (store === undefined)
    throw new InvalidStateError('better-auth hooks need a <BetterAuthProvider> above')
  return store
}

/** The session view; `{ loading: true }` during server rendering and until it is read. */
export function useSession(): SessionState {
  const store = useStore()
  return useSyncExternalStore(store.subscribe, store.snapshot, () => LOADING)
}

export interface AuthActions {
  createAccount(recoveryHash: string): Promise<AccountIds>
  signIn(): Promise<SessionView>
  /** Refreshes now (the session also refreshes on its own before the token expires). */
  refresh(): Promise<void>
  /** Rotates this device's authentication key. */
  rotateDevice(): Promise<void>
  /** Local; see BetterAuthSession.signOut. */
  signOut(options?: { forgetDevice?: boolean }): Promise<void>
  /** On the new device: the container to show (as a QR code, or to copy). */
  generateLinkContainer(identity: string): Promise<string>
  /** On a device of the account: links the device that produced `container`. */
  linkDevice(container: string): Promise<void>
  unlinkDevice(device: string): Promise<void>
  recoverAccount(
    identity: string,
    recoveryKey: SigningKey,
    nextRecoveryHash: string,
  ): Promise<AccountIds>
}

/** The account and session operations; each rejects until the session is loaded. */
export function useAuth(): AuthActions {
  const store = useStore()
  return useMemo(() => {
    const session = (): BetterAuthSession => {
      const current = store.session()
      if (current === undefined) throw notLoaded()
      return current
    }
    const run =
      <A extends unknown[], R>(task: (s: BetterAuthSession, ...args: A) => Promise<R>) =>
      async (...args: A): Promise<R> =>
        task(session(), ...args)
    return {
      createAccount: run((s, recoveryHash: string) => s.createAccount(recoveryHash)),
      signIn: run((s) => s.signIn()),
      refresh: run((s) => s.refresh()),
      rotateDevice: run((s) => s.rotateDevice()),
      signOut: run((s, options?: { forgetDevice?: boolean }) => s.signOut(options)),
      generateLinkContainer: run(async (s, identity: string) => {
        const container = await s.client.generateLinkContainer(identity)
        await s.load()
        return container
      }),
      linkDevice: run((s, container: string) => s.linkDevice(container)),
      unlinkDevice: run((s, device: string) => s.unlinkDevice(device)),
      recoverAccount: run((s, identity: string, key: SigningKey, next: string) =>
        s.recoverAccount(identity, key, next),
      ),
    }
  }, [store])
}

/** A signed access request, refreshed and retried as BetterAuthSession.access() does. */
export function useAccess(): <T = JsonValue>(
  path: string,
  request: JsonValue,
  options?: { service?: string },
) => Promise<T> {
  const store = useStore()
  return useCallback(
    async <T = JsonValue>(path: string, request: JsonValue, options?: { service?: string }) => {
      const session = store.session()
      if (session === undefined) throw notLoaded()
      return session.access<T>(path, request, options)
    },
    [store],
  )
}

function notLoaded(): InvalidStateError {
  return new InvalidStateError('the better-auth session is not loaded yet')
}
