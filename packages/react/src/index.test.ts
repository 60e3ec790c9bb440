import { createElement, type ReactNode } from 'react'
import { renderToString } from 'react-dom/server'
import { describe, expect, it, vi } from 'vitest'
import { BetterAuthProvider, useAccess, useAuth, useSession } from './index.js'

function Status(): ReactNode {
  const { loading, view } = useSession()
  useAuth()
  useAccess()
  return createElement('p', null, loading ? 'loading' : (view?.status ?? 'none'))
}

describe('server rendering', () => {
  it('renders the loading state and never creates the session (no IndexedDB, no Web Crypto)', () => {
    const create = vi.fn(() => {
      throw new Error('must not run during server rendering')
    })
    const html = renderToString(
      createElement(BetterAuthProvider, { create }, createElement(Status)),
    )
    expect(html).toBe('<p>loading</p>')
    expect(create).not.toHaveBeenCalled()
  })

  it('hooks outside the provider throw InvalidStateError', () => {
    expect(() => renderToString(createElement(Status))).toThrow(
      expect.objectContaining({ code: 'BA901' }),
    )
  })
})

it('pins the public runtime exports', async () => {
  expect(Object.keys(await import('./index.js')).sort()).toEqual([
    'BetterAuthProvider',
    'useAccess',
    'useAuth',
    'useSession',
  ])
})
