import { playwright } from '@vitest/browser-playwright'
import { defineProject } from 'vitest/config'
import { BROWSER_TESTS } from './vitest.config.js'

// The IndexedDB stores run in a real browser: Debian's Chromium (CHROMIUM_PATH to use another),
// driven by Playwright, since the stores' promises (non-extractable keys, Web Locks, one
// connection per origin) are the browser's, not a Node stand-in's.
export default defineProject({
  resolve: { conditions: ['dev-source', 'browser', 'module', 'import', 'default'] },
  test: {
    name: '@better-auth/client (chromium)',
    include: [BROWSER_TESTS],
    testTimeout: 20_000,
    browser: {
      enabled: true,
      headless: true,
      provider: playwright({
        launchOptions: { executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium' },
      }),
      instances: [{ browser: 'chromium' }],
      screenshotFailures: false,
      // The page's server on loopback only, on a free port when another run holds the default.
      api: { host: '127.0.0.1', strictPort: false },
    },
  },
})
