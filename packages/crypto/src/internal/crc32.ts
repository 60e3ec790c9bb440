// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320) as used by the gzip trailer. fflate does
// not check the trailer when inflating, so the token decoder does it with this.

let table: Uint32Array | undefined

function crcTable(): Uint32Array {
  if (table !== undefined) return table
  table = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    table[n] = c >>> 0
  }
  return table
}

/** Continues a CRC-32 over `bytes`; start with 0 and feed chunks in order. */
export function crc32(bytes: Uint8Array, previous = 0): number {
  const t = crcTable()
  let c = ~previous >>> 0
  for (const byte of bytes) c = (t[(c ^ byte) & 0xff] ?? 0) ^ (c >>> 8)
  return ~c >>> 0
}
