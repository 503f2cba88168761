/**
 * Minimal, spec-following encoders for test images that sharp cannot write (BMP, 16-bit TIFF),
 * so decoder tests compare against pixels we chose, not against another decoder.
 */

/**
 * A 24-bit (BGR rows padded to 4 bytes) or 8-bit gray-palette BMP with a BITMAPINFOHEADER;
 * rows bottom-up unless `topDown`. `compression` only sets the header field (for refusal tests).
 */
export function encodeBmp(pixels: Uint8Array, height: number, width: number, channels: 1 | 3, { topDown = false, compression = 0 } = {}): Uint8Array {
  const bpp = channels === 3 ? 24 : 8;
  const rowBytes = Math.ceil((width * bpp) / 8 / 4) * 4;
  const palette = channels === 1 ? 256 * 4 : 0;
  const offset = 14 + 40 + palette;
  const size = offset + rowBytes * height;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out[0] = 0x42; // 'B'
  out[1] = 0x4d; // 'M'
  view.setUint32(2, size, true);
  view.setUint32(10, offset, true);
  view.setUint32(14, 40, true);
  view.setInt32(18, width, true);
  view.setInt32(22, topDown ? -height : height, true); // positive: rows stored bottom-up
  view.setUint16(26, 1, true);
  view.setUint16(28, bpp, true);
  view.setUint32(30, compression, true);
  view.setUint32(34, rowBytes * height, true);
  view.setUint32(38, 2835, true);
  view.setUint32(42, 2835, true);
  view.setUint32(46, channels === 1 ? 256 : 0, true);
  if (channels === 1) for (let i = 0; i < 256; i++) out.set([i, i, i, 0], 54 + 4 * i);
  for (let y = 0; y < height; y++) {
    const row = offset + (topDown ? y : height - 1 - y) * rowBytes;
    for (let x = 0; x < width; x++) {
      const p = (y * width + x) * channels;
      if (channels === 1) out[row + x] = pixels[p];
      else out.set([pixels[p + 2], pixels[p + 1], pixels[p]], row + 3 * x);
    }
  }
  return out;
}

/** An uncompressed little-endian baseline TIFF with 16 bits per sample (gray or RGB), one strip. */
export function encodeTiff16(pixels: Uint16Array, height: number, width: number, channels: 1 | 3): Uint8Array {
  const entries: [tag: number, type: number, count: number, value: number][] = [];
  const dataBytes = pixels.length * 2;
  const ifdOffset = 8;
  const nEntries = 10;
  const ifdSize = 2 + nEntries * 12 + 4;
  const bitsOffset = ifdOffset + ifdSize; // BitsPerSample array for RGB (3 SHORTs)
  const dataOffset = bitsOffset + 8;
  const SHORT = 3;
  const LONG = 4;
  entries.push([256, LONG, 1, width]);
  entries.push([257, LONG, 1, height]);
  entries.push([258, SHORT, channels, channels === 1 ? 16 : bitsOffset]);
  entries.push([259, SHORT, 1, 1]); // no compression
  entries.push([262, SHORT, 1, channels === 1 ? 1 : 2]); // BlackIsZero or RGB
  entries.push([273, LONG, 1, dataOffset]);
  entries.push([277, SHORT, 1, channels]);
  entries.push([278, LONG, 1, height]);
  entries.push([279, LONG, 1, dataBytes]);
  entries.push([284, SHORT, 1, 1]); // chunky
  const out = new Uint8Array(dataOffset + dataBytes);
  const view = new DataView(out.buffer);
  out.set([0x49, 0x49, 42, 0]);
  view.setUint32(4, ifdOffset, true);
  view.setUint16(ifdOffset, nEntries, true);
  entries.forEach(([tag, type, count, value], k) => {
    const at = ifdOffset + 2 + 12 * k;
    view.setUint16(at, tag, true);
    view.setUint16(at + 2, type, true);
    view.setUint32(at + 4, count, true);
    if (type === SHORT && count === 1) view.setUint16(at + 8, value, true);
    else view.setUint32(at + 8, value, true);
  });
  view.setUint32(ifdOffset + 2 + 12 * nEntries, 0, true); // no next IFD
  for (let c = 0; c < 3; c++) view.setUint16(bitsOffset + 2 * c, 16, true);
  for (let i = 0; i < pixels.length; i++) view.setUint16(dataOffset + 2 * i, pixels[i], true);
  return out;
}
