import { InvalidMessageError } from '../errors.js'

// fatal: invalid bytes throw instead of becoming U+FFFD, so distinct byte strings never decode to
// one text. ignoreBOM: a byte order mark stays in the text (and the reader refuses it) rather than
// being dropped silently.
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/**
 * The text of a received message. Every place where bytes from the network become text uses this:
 * a signature verifies exactly one byte string, so bytes that are not UTF-8 are refused (BA101)
 * rather than repaired.
 */
export function decodeUtf8(bytes: Uint8Array | ArrayBuffer, field = 'message'): string {
  try {
    return decoder.decode(bytes)
  } catch (cause) {
    throw new InvalidMessageError(field, 'not valid UTF-8', cause)
  }
}
