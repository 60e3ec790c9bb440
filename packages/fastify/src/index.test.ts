import { expect, it } from 'vitest'

it('pins the public runtime exports', async () => {
  expect(Object.keys(await import('./index.js')).sort()).toMatchInlineSnapshot(`
    [
      "STATUS_BY_CODE",
      "betterAuth",
      "mapError",
    ]
  `)
})
