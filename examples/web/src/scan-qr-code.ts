import { InvalidMessageError } from '@better-auth/protocol'
import jsQR from 'jsqr'

/**
 * Reads the QR code in a picture (a photo or screenshot of the other device's link code) and
 * returns the text it encodes. Decoding runs on the image's pixels in this page: the picture never
 * leaves the browser.
 */
export async function readQrCode(picture: Blob): Promise<string> {
  const bitmap = await createImageBitmap(picture)
  try {
    const canvas = document.createElement('canvas')
    canvas.width = bitmap.width
    canvas.height = bitmap.height
    const context = canvas.getContext('2d', { willReadFrequently: true })
    if (context === null) throw new InvalidMessageError('picture', 'cannot read its pixels')
    context.drawImage(bitmap, 0, 0)
    const { data, width, height } = context.getImageData(0, 0, canvas.width, canvas.height)
    // jsqr is CommonJS: its function is both the module and its `default`.
    const code = jsQR.default(data, width, height)
    if (code === null) throw new InvalidMessageError('picture', 'no QR code found in it')
    return code.data
  } finally {
    bitmap.close()
  }
}
