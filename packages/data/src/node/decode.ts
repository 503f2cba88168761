import { readFile } from 'node:fs/promises';
import sharp, { type Metadata, type OutputInfo, type Sharp } from 'sharp';
import { decode as decodeBmp } from 'bmp-ts';
import { DataError } from '../errors.js';
import { extensionOf } from '../image-files.js';
import type { RawPixels } from '../pixels.js';

/** Image formats the Node path decodes (BMP through `bmp-ts`, the rest through sharp/libvips). */
export type ImageFormat = 'png' | 'jpeg' | 'bmp' | 'tiff' | 'webp';

/** Formats recognised by their signature but not supported, named in the error message. */
const KNOWN_OTHERS: [string, (b: Uint8Array) => boolean][] = [
  ['GIF', (b) => b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x38],
  ['Photoshop (PSD)', (b) => b[0] === 0x38 && b[1] === 0x42 && b[2] === 0x50 && b[3] === 0x53],
  ['HEIF/AVIF', (b) => b[4] === 0x66 && b[5] === 0x74 && b[6] === 0x79 && b[7] === 0x70],
  ['PDF', (b) => b[0] === 0x25 && b[1] === 0x50 && b[2] === 0x44 && b[3] === 0x46],
  ['ICO', (b) => b[0] === 0 && b[1] === 0 && b[2] === 1 && b[3] === 0],
  ['SVG/XML', (b) => b[0] === 0x3c],
];

/**
 * The format of an encoded image from its first bytes (the extension is not trusted), or a
 * description of what it is instead.
 */
export function sniffFormat(bytes: Uint8Array): { format: ImageFormat } | { other: string } {
  const b = bytes;
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return { format: 'png' };
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return { format: 'jpeg' };
  if (b.length >= 2 && b[0] === 0x42 && b[1] === 0x4d) return { format: 'bmp' };
  if (b.length >= 4 && ((b[0] === 0x49 && b[1] === 0x49 && b[2] === 0x2a && b[3] === 0) || (b[0] === 0x4d && b[1] === 0x4d && b[2] === 0 && b[3] === 0x2a))) {
    return { format: 'tiff' };
  }
  if (b.length >= 12 && b[0] === 0x52 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x46 && b[8] === 0x57 && b[9] === 0x45 && b[10] === 0x42 && b[11] === 0x50) {
    return { format: 'webp' };
  }
  if (b.length === 0) return { other: 'an empty file' };
  for (const [name, test] of KNOWN_OTHERS) if (b.length >= 8 && test(b)) return { other: name };
  return { other: 'not a recognisable image' };
}

/** A decodable image, opened and checked, before any transform. */
export interface OpenedImage {
  path: string;
  format: ImageFormat;
  /** A fresh sharp pipeline over the pixels, EXIF orientation applied. */
  pipeline: Sharp;
  /** Size after EXIF orientation. */
  height: number;
  width: number;
  /** One colour channel (gray or gray+alpha). */
  gray: boolean;
  /** 16 bits per sample (kept as 16-bit through the pipeline). */
  deep: boolean;
}

/** Default of {@link maxImagePixels}: 100 megapixels (e.g. 10,000 x 10,000; decoding needs ~4-8 bytes a pixel). */
export const DEFAULT_MAX_IMAGE_PIXELS = 100_000_000;

/**
 * The most pixels (width x height) an image may have; larger ones are refused from their header,
 * before any pixel is decoded. Every decoder (sharp's formats and BMP) uses it. Set by
 * `RLR_MAX_IMAGE_PIXELS` (a positive integer), else {@link DEFAULT_MAX_IMAGE_PIXELS}.
 */
export function maxImagePixels(env: NodeJS.ProcessEnv = process.env): number {
  const v = Number(env.RLR_MAX_IMAGE_PIXELS);
  return Number.isSafeInteger(v) && v > 0 ? v : DEFAULT_MAX_IMAGE_PIXELS;
}

/** The error for an image over the pixel limit (not a corrupt file: it is refused on purpose). */
export function tooLarge(path: string, width: number, height: number, limit: number): DataError {
  return new DataError(
    'too-large',
    path,
    `is ${width} x ${height} = ${(width * height).toLocaleString('en-US')} pixels, over the limit of ${limit.toLocaleString('en-US')} pixels; it was not decoded`,
    'Downscale it (the model sees it resized to a few hundred pixels anyway), or raise the limit with the environment variable RLR_MAX_IMAGE_PIXELS (e.g. RLR_MAX_IMAGE_PIXELS=200000000).',
  );
}

/**
 * Width and height from a BMP header (BITMAPCOREHEADER or BITMAPINFOHEADER and its successors),
 * or undefined when the header is too short to say.
 */
export function bmpDimensions(bytes: Uint8Array): { width: number; height: number } | undefined {
  if (bytes.length < 26) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerSize = view.getUint32(14, true);
  if (headerSize === 12) return { width: view.getUint16(18, true), height: view.getUint16(20, true) };
  // Height is negative for top-down bitmaps.
  return { width: Math.abs(view.getInt32(18, true)), height: Math.abs(view.getInt32(22, true)) };
}

/** The error for a file that does not decode. */
export function corrupt(path: string, detail: string): DataError {
  return new DataError('corrupt', path, `could not be decoded (${detail}); the file is corrupt or truncated`, 'Replace it with an intact copy, or remove it from the dataset.');
}

async function readBytes(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new DataError('not-found', path, 'file does not exist', 'Check the path, or regenerate the file list.');
    if (code === 'EISDIR') throw new DataError('invalid-layout', path, 'is a folder, not an image file', 'Point to an image file.');
    throw new DataError('not-found', path, `could not be read (${(e as Error).message})`, 'Check the file permissions.');
  }
}

/**
 * BMP through `bmp-ts` (libvips in sharp's prebuilt binaries has no BMP loader), as raw RGB.
 * bmp-ts 1.0.9 is used in its default ABGR output: its `toRGBA` option mislabels channels for
 * palette images, and its RLE decoding misplaces pixels, so RLE files are refused up front.
 */
function openBmp(path: string, bytes: Buffer): Sharp {
  const size = bmpDimensions(bytes);
  const limit = maxImagePixels();
  if (size && size.width * size.height > limit) throw tooLarge(path, size.width, size.height, limit);
  const compression = bytes.length >= 34 ? bytes.readUInt32LE(30) : -1;
  if (compression === 1 || compression === 2) {
    throw new DataError('unsupported-format', path, `is an RLE-compressed BMP (RLE${compression === 1 ? 8 : 4}), which is not supported`, 'Re-save it as an uncompressed BMP or as PNG.');
  }
  let bmp: ReturnType<typeof decodeBmp>;
  try {
    bmp = decodeBmp(bytes);
  } catch (e) {
    throw corrupt(path, `BMP: ${(e as Error).message}`);
  }
  const { width, height, data } = bmp;
  if (!(width > 0 && height > 0) || data.length < width * height * 4) throw corrupt(path, 'BMP pixel data is shorter than its header says');
  // ABGR → RGB. Alpha is dropped here: many BMP writers leave it 0, which must not mean "transparent".
  const rgb = Buffer.allocUnsafe(width * height * 3);
  for (let i = 0, j = 0; i < width * height * 4; i += 4, j += 3) {
    rgb[j] = data[i + 3];
    rgb[j + 1] = data[i + 2];
    rgb[j + 2] = data[i + 1];
  }
  return sharp(rgb, { raw: { width, height, channels: 3 } });
}

const SUPPORTED: ReadonlySet<string> = new Set(['png', 'jpeg', 'tiff', 'webp']);
const FORMAT_NAMES: Record<string, string> = { gif: 'GIF', svg: 'SVG', heif: 'HEIF/AVIF', pdf: 'PDF', jp2k: 'JPEG 2000', magick: 'ImageMagick', openslide: 'OpenSlide', fits: 'FITS', vips: 'VIPS', ppm: 'PPM', exr: 'OpenEXR', jxl: 'JPEG XL' };

/** Why a file sharp refused is bad: another format, or corrupt. */
function diagnose(bytes: Uint8Array, path: string, detail: string): DataError {
  const sniffed = sniffFormat(bytes);
  if ('other' in sniffed && sniffed.other !== 'an empty file' && sniffed.other !== 'not a recognisable image') return unsupported(path, sniffed.other);
  return corrupt(path, 'other' in sniffed ? sniffed.other : detail);
}

function unsupported(path: string, what: string): DataError {
  return new DataError('unsupported-format', path, `is a ${what} file, which is not supported`, 'Convert it to PNG (or JPEG, BMP, TIFF, WebP), or remove it from the dataset.');
}

/** An encoded image: a file path, or the file's bytes (a `Buffer` or `Uint8Array`). */
export type ImageInput = string | Uint8Array;

/**
 * Opens an image (a file, or its bytes) and reads its header. Throws a {@link DataError} naming
 * the image when it is missing, of an unsupported format or corrupt.
 *
 * The common case hands the path straight to sharp, so reading and decoding happen on libuv's
 * threads, not on the JS thread; the file's bytes are read here only for BMP (by extension or
 * signature) and to explain a failure.
 * @param label - how errors name the image (default: the path, or `image bytes` for bytes)
 */
export async function openImage(input: ImageInput, label?: string): Promise<OpenedImage> {
  if (typeof input !== 'string') {
    const name = label ?? 'image bytes';
    const bytes = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    const sniffed = sniffFormat(bytes);
    if ('format' in sniffed && sniffed.format === 'bmp') return openBmpFile(name, bytes);
    return openWithSharp(name, bytes);
  }
  const path = input;
  if (extensionOf(path) === '.bmp') {
    const bytes = await readBytes(path);
    const sniffed = sniffFormat(bytes);
    if ('format' in sniffed && sniffed.format === 'bmp') return openBmpFile(label ?? path, bytes);
    return openWithSharp(label ?? path, bytes);
  }
  return openWithSharp(label ?? path, path);
}

async function openWithSharp(path: string, input: string | Buffer): Promise<OpenedImage> {
  // failOn 'error' stops on truncated or undecodable data but not on benign decoder warnings
  // (libpng's "iCCP: known incorrect sRGB profile" is common in real datasets).
  const limit = maxImagePixels();
  const pipeline = sharp(input, { autoOrient: true, failOn: 'error', limitInputPixels: limit });
  let meta: Metadata;
  try {
    meta = await pipeline.metadata();
  } catch (e) {
    if (/exceeds pixel limit/i.test((e as Error).message)) {
      // Over the limit: read the size from the header alone, for a message that says so.
      const m = await sharp(input, { autoOrient: true, limitInputPixels: false }).metadata().catch(() => undefined);
      const { width = 0, height = 0 } = m?.autoOrient ?? m ?? {};
      throw tooLarge(path, width, height, limit);
    }
    const bytes = typeof input === 'string' ? await readBytes(input) : input; // throws not-found for a missing file
    const sniffed = sniffFormat(bytes);
    if ('format' in sniffed && sniffed.format === 'bmp') return openBmpFile(path, bytes);
    throw diagnose(bytes, path, (e as Error).message);
  }
  if (!SUPPORTED.has(meta.format)) throw unsupported(path, FORMAT_NAMES[meta.format] ?? meta.format);
  const { width, height } = meta.autoOrient ?? meta;
  // From the header, before a pixel is decoded (sharp's own limit, passed above, backs it up).
  if (width * height > limit) throw tooLarge(path, width, height, limit);
  return { path, format: meta.format as ImageFormat, pipeline, height, width, gray: meta.channels <= 2, deep: meta.depth === 'ushort' };
}

function openBmpFile(path: string, bytes: Buffer): Promise<OpenedImage> {
  const pipeline = openBmp(path, bytes);
  return pipeline.metadata().then((meta) => ({ path, format: 'bmp' as const, pipeline, height: meta.height, width: meta.width, gray: false, deep: false }));
}

/** Runs a pipeline to raw integer pixels, turning decoder failures into a {@link DataError}. */
export async function toRaw(opened: OpenedImage, pipeline: Sharp): Promise<RawPixels & { channels: 1 | 3 }> {
  const { deep, gray } = opened;
  let out: { data: Buffer; info: OutputInfo };
  try {
    out = await pipeline
      .removeAlpha()
      .toColourspace(gray ? (deep ? 'grey16' : 'b-w') : deep ? 'rgb16' : 'srgb')
      .raw({ depth: deep ? 'ushort' : 'uchar' })
      .toBuffer({ resolveWithObject: true });
  } catch (e) {
    const limit = maxImagePixels();
    if (/exceeds pixel limit/i.test((e as Error).message)) throw tooLarge(opened.path, opened.width, opened.height, limit);
    throw corrupt(opened.path, (e as Error).message);
  }
  const { data, info } = out;
  const channels = info.channels === 1 ? 1 : 3;
  let pixels: Uint8Array | Uint16Array = data;
  if (deep) {
    // A Uint16Array view needs 2-byte alignment; copy in the rare case the buffer is not aligned.
    const aligned = data.byteOffset % 2 === 0 ? data : Buffer.from(data);
    pixels = new Uint16Array(aligned.buffer, aligned.byteOffset, aligned.length / 2);
  }
  return { data: pixels, channels, height: info.height, width: info.width, maxValue: deep ? 65535 : 255 };
}
