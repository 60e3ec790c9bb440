import { Registry } from 'prom-client'
import { expect, it } from 'vitest'
import { PrometheusMetrics } from './index.js'

it('pins the public runtime exports', async () => {
  expect(Object.keys(await import('./index.js')).sort()).toEqual(['PrometheusMetrics'])
})

it('registers in a given registry under a given prefix', async () => {
  const registry = new Registry()
  const metrics = new PrometheusMetrics({ registry, prefix: 'auth_', buckets: [0.5] })
  metrics.start('rotateDevice').end({ status: 401, outcome: 'refused', code: 'BA104' })
  const text = await registry.metrics()
  expect(text).toContain('auth_http_refusals_total{route="rotateDevice",code="BA104"} 1')
  expect(text).toContain(
    'auth_http_request_duration_seconds_bucket{le="0.5",route="rotateDevice",outcome="refused"} 1',
  )
  expect(text).not.toContain('webhook')
  expect(await metrics.metrics()).toBe(text)
})
