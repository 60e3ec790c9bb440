import { describe, expect, it } from 'vitest'

describe('public API', () => {
  it('exports exactly the documented runtime values', async () => {
    expect(Object.keys(await import('./index.js')).sort()).toEqual([
      'CESR_CODES',
      'CesrError',
      'base64UrlDecode',
      'base64UrlEncode',
      'decodeCesr',
      'decodeCesrAs',
      'encodeCesr',
      'isCesr',
    ])
  })
})
