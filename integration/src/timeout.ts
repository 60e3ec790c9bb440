/** A step that did not finish in time; the harness reports it instead of hanging. */
export class TimeoutError extends Error {
  override readonly name = 'TimeoutError'
}

/** Settles like `promise`, or rejects with TimeoutError after `ms`; the timer never outlives it. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`${what} timed out after ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}
