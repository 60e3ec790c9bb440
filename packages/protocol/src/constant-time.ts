/**
 * Compares two strings without an early exit on the first difference, so the time taken does not
 * reveal how much of a secret (a nonce, a commitment) an attacker guessed right. Lengths of the
 * protocol's encodings are public, so a length mismatch returns at once.
 */
export function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false
  let difference = 0
  for (let i = 0; i < a.length; i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i)
  return difference === 0
}
