import { project } from '../../vitest.shared.js'

// Each suite bundles a server, starts a runtime binary and talks to it over 127.0.0.1.
export default project({ testTimeout: 60_000, hookTimeout: 120_000 })
