import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { App } from './app.js'

const DEFAULT_SERVER = 'http://127.0.0.1:8080'

const params = new URLSearchParams(location.search)
const margin = params.get('refreshMarginMs')
const root = document.getElementById('root')
if (root === null) throw new Error('missing #root')
createRoot(root).render(
  <StrictMode>
    <App
      serverUrl={params.get('server') ?? DEFAULT_SERVER}
      slot={params.get('account') ?? 'default'}
      // For servers with short token lifetimes (the browser test): the default margin of 60 s
      // would refresh a 5-second token continuously.
      refreshMarginMs={margin === null ? undefined : Number(margin)}
    />
  </StrictMode>,
)
