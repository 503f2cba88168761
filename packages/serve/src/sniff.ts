/** The encoded image formats the service accepts, recognised by their first bytes. */
export type SniffedFormat = 'png' | 'jpeg' | 'bmp' | 'tiff' | 'webp';

/**
 * The image format of `b` from its signature, or a short description of what it is instead (the
 * Content-Type header and file names are not trusted).
 */
export function sniffImage(b: Uint8Array): { format: SniffedFormat } | { other: string } {
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return { format: 'png' };
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return { format: 'jpeg' };
  if (b.length >= 2 && b[0] === 0x42 && b[1] === 0x4d) return { format: 'bmp' };
  if (b.length >= 4 && ((b[0] === 0x49 && b[1] === 0x49 && b[2] === 0x2a && b[3] === 0) || (b[0] === 0x4d && b[1] === 0x4d && b[2] === 0 && b[3] === 0x2a))) return { format: 'tiff' };
  if (b.length >= 12 && String.fromCharCode(...b.subarray(0, 4)) === 'RIFF' && String.fromCharCode(...b.subarray(8, 12)) === 'WEBP') return { format: 'webp' };
  if (b.length === 0) return { other: 'empty' };
  if (b.length >= 4 && String.fromCharCode(...b.subarray(0, 4)) === 'GIF8') return { other: 'a GIF image, which is not supported' };
  if (b.length >= 4 && String.fromCharCode(...b.subarray(0, 4)) === '%PDF') return { other: 'a PDF document' };
  const head = b.subarray(0, 64);
  if (head.every((c) => c === 9 || c === 10 || c === 13 || (c >= 32 && c < 127))) return { other: 'text, not an image' };
  return { other: 'not a recognisable image' };
}
