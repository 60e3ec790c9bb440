import { defaultClientConditions, defineConfig } from 'vite'

export default defineConfig({
  // Workspace packages resolve to their TypeScript sources (the `dev-source` export condition),
  // so the example needs no build of the libraries first.
  resolve: { conditions: ['dev-source', ...defaultClientConditions] },
  server: { host: '127.0.0.1', port: 5173 },
  preview: { host: '127.0.0.1', port: 4173 },
  build: { target: 'es2022', sourcemap: true },
})
