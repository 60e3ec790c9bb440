import { project } from '../../vitest.shared.js'

/** The IndexedDB store tests: they run in Chromium (vitest.browser.config.ts), not in Node. */
export const BROWSER_TESTS = 'src/browser/*store*.test.ts'

export default project({ exclude: [BROWSER_TESTS, '**/node_modules/**'] })
