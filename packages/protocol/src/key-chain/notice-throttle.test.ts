import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { NoticeThrottle } from './notice-throttle.js'

describe('NoticeThrottle', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('runs at once for a notice outside the window', () => {
    let runs = 0
    const throttle = new NoticeThrottle(() => runs++, 100)
    throttle.notice()
    expect(runs).toBe(1)
    vi.advanceTimersByTime(100)
    throttle.notice()
    expect(runs).toBe(2)
  })

  it('defers a notice inside the window to its end rather than dropping it', () => {
    let runs = 0
    const throttle = new NoticeThrottle(() => runs++, 100)
    throttle.notice()
    vi.advanceTimersByTime(30)
    throttle.notice()
    expect(runs).toBe(1)
    vi.advanceTimersByTime(69)
    expect(runs).toBe(1)
    vi.advanceTimersByTime(1)
    expect(runs).toBe(2)
  })

  it('answers a flood of notices with one run per window', () => {
    let runs = 0
    const throttle = new NoticeThrottle(() => runs++, 100)
    for (let ms = 0; ms < 1000; ms++) {
      throttle.notice()
      throttle.notice()
      vi.advanceTimersByTime(1)
    }
    // 2000 notices over one second: runs at 0, 100, … 900, and at 1000 for the notices after the
    // run at 900, the last of them at 999.
    expect(runs).toBe(11)
    vi.advanceTimersByTime(1000)
    expect(runs).toBe(11)
  })

  it('drops a deferred run when cancelled', () => {
    let runs = 0
    const throttle = new NoticeThrottle(() => runs++, 100)
    throttle.notice()
    throttle.notice()
    throttle.cancel()
    vi.advanceTimersByTime(1000)
    expect(runs).toBe(1)
    throttle.notice()
    expect(runs).toBe(2)
  })
})
