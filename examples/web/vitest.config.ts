import { project } from '../../vitest.shared.js'

// The browser test builds the app and drives Chromium: give it room beyond the unit default.
export default project({ testTimeout: 120_000, hookTimeout: 180_000 })
