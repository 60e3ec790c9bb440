/**
 * Runs synchronous work behind a Promise-returning interface. The Promise constructor turns a
 * throw into a rejection, so callers that only attach `.catch` (or `await`) never see a
 * synchronous exception from a method documented to return a Promise.
 */
export function settle<T>(run: () => T): Promise<T> {
  return new Promise<T>((resolve) => resolve(run()))
}
