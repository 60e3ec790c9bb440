import { toCanvas } from 'qrcode'
import { useEffect, useRef, useState, type ReactNode } from 'react'

/**
 * The link container as a QR code for the existing device to scan. `data-payload` carries the
 * exact text encoded, so people (and tests) can compare what a scanner reads with what was meant.
 */
export function LinkQrCode({ payload }: { readonly payload: string }): ReactNode {
  const canvas = useRef<HTMLCanvasElement>(null)
  const [drawn, setDrawn] = useState<string>()
  useEffect(() => {
    if (canvas.current === null) return
    let current = true
    // Byte mode, error correction M: a container (~400 characters) fits in a version-15 code
    // that phone cameras read easily at 4 pixels a module.
    toCanvas(canvas.current, payload, { errorCorrectionLevel: 'M', margin: 4, scale: 4 }).then(
      () => current && setDrawn(payload),
      (error: unknown) => console.error(error),
    )
    return () => {
      current = false
    }
  }, [payload])
  return (
    <canvas
      id="link-qr"
      ref={canvas}
      data-payload={payload}
      data-drawn={drawn === payload ? 'true' : 'false'}
    />
  )
}
