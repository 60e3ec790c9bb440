import { project } from '../../vitest.shared.js'

const config = project()

// vitest passes the SSR resolve conditions on to Node as `--conditions` flags. With 'import'
// among them, Node's require() inside pg (CommonJS) picks pg-pool's ESM entry and pg fails to
// load, so this package lists the conditions without it: Node adds 'import' by itself to real
// imports, and the workspace's 'dev-source' entries still win.
export default {
  ...config,
  ssr: {
    ...config.ssr,
    resolve: { ...config.ssr?.resolve, conditions: ['dev-source', 'node', 'default'] },
  },
}
