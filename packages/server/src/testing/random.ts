/**
 * A random 128-bit hex id, optionally prefixed for readable failure messages. Each test draws
 * fresh ids so that persistent backends shared between runs (or between test files running in
 * parallel) never see two tests touch the same rows. Web Crypto keeps the kit free of `node:`.
 */
export function randomId(prefix = ''): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16))
  let hex = ''
  for (const byte of bytes) hex += byte.toString(16).padStart(2, '0')
  return prefix + hex
}
