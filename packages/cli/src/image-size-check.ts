import { extname } from 'node:path';
import { keptFraction, transformGeometry, type Sample } from '@rlr/data';
import { openImage } from '@rlr/data/node';
import type { ImageGeometry } from './image-geometry.js';
import type { Logger } from './log.js';

/** An image enlarged more than this (per side) to reach the input size is mostly interpolation. */
export const MAX_UPSCALE = 4;

/**
 * A centre crop that keeps less than this share of an image's pixels is reported (every crop
 * that drops pixels, rounding aside); at most {@link MIN_KEPT} the warning says most is lost.
 */
export const KEPT_IN_FULL = 0.999;

/** A centre crop that keeps at most this share of the resized image's pixels drops most of it. */
export const MIN_KEPT = 0.5;

/** Header sizes read at a time (sharp reads only the header: no decoding). */
const CONCURRENCY = 8;

/** What {@link checkImageSizes} found: each kind of problem with its count and first example. */
export interface ImageSizeFindings {
  checked: number;
  upscaled?: { count: number; path: string; height: number; width: number; factor: number };
  /** Images the centre crop drops pixels of; the example is the one that keeps the least. */
  cropped?: { count: number; path: string; height: number; width: number; kept: number };
}

/**
 * Reads the header of each training image and finds the ones the geometry (`--resize`, then the
 * centre crop `--image-size`) treats badly: enlarged more than {@link MAX_UPSCALE}x (a 1x1 image
 * becomes a flat patch), or with pixels dropped by the centre crop (a wide image loses its
 * sides; `--resize-mode fit` and `stretch` drop nothing). BMP files are not read (their header needs a full decode); unreadable files are
 * left to the extraction that follows, which names them.
 */
export async function checkImageSizes(samples: readonly Sample[], g: ImageGeometry): Promise<ImageSizeFindings> {
  const found: ImageSizeFindings = { checked: 0 };
  const paths = samples.map((s) => s.path).filter((p) => extname(p).toLowerCase() !== '.bmp');
  let next = 0;
  const worker = async () => {
    while (next < paths.length) {
      const path = paths[next++];
      let height: number;
      let width: number;
      try {
        ({ height, width } = await openImage(path));
      } catch {
        continue;
      }
      found.checked++;
      const t = transformGeometry(height, width, { resize: g.resize, crop: g.crop, mode: g.mode });
      const factor = Math.max(t.resizedHeight / height, t.resizedWidth / width);
      const kept = keptFraction(t);
      if (factor > MAX_UPSCALE) {
        found.upscaled ??= { count: 0, path, height, width, factor };
        found.upscaled.count++;
      }
      if (kept < KEPT_IN_FULL) {
        found.cropped ??= { count: 0, path, height, width, kept };
        found.cropped.count++;
        if (kept < found.cropped.kept) Object.assign(found.cropped, { path, height, width, kept });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, paths.length) }, worker));
  return found;
}

/** A crop with the aspect ratio of `height`x`width` at the shorter crop side, in multiples of 32. */
function aspectCrop(height: number, width: number, g: ImageGeometry): string {
  const side = Math.min(...g.crop);
  const [h, w] = height <= width ? [side, Math.max(side, Math.floor((side * width) / height / 32) * 32)] : [Math.max(side, Math.floor((side * height) / width / 32) * 32), side];
  return `${h}x${w}`;
}

/**
 * {@link checkImageSizes}, reported: at most one warning per kind of problem, naming how many
 * images, one example file and the flag that fixes it.
 */
export async function warnAboutImageSizes(samples: readonly Sample[], g: ImageGeometry, log: Logger): Promise<ImageSizeFindings> {
  const f = await checkImageSizes(samples, g);
  const input = `--resize ${g.resize} / --image-size ${g.crop.join('x')}`;
  if (f.upscaled) {
    const u = f.upscaled;
    log.warn(
      `${u.count} of ${f.checked} training images are enlarged more than ${MAX_UPSCALE}x to the ${input} input (e.g. ${u.path} is ${u.height}x${u.width} px, enlarged ${u.factor.toFixed(0)}x): the model learns interpolation blur, not the images; fix: use images of at least ${Math.ceil(g.resize / MAX_UPSCALE)} px per side, or a smaller --image-size (and --resize) near the images' size`,
      { images: u.count, checked: f.checked, example: u.path },
    );
  }
  if (f.cropped) {
    const c = f.cropped;
    log.warn(
      `the centre crop ${g.crop.join('x')} drops the borders of ${c.count} of ${f.checked} training images and keeps only ${(c.kept * 100).toFixed(0)}% of the pixels of the worst (${c.path}, ${c.height}x${c.width} px)${c.kept <= MIN_KEPT ? ', most of the image' : ''}: defects outside the crop are never seen; fix: pass --image-size HxW with the images' aspect ratio (e.g. --image-size ${aspectCrop(c.height, c.width, g)}) and --resize at its shorter side, or --resize-mode fit (letterbox, nothing dropped) or stretch`,
      { images: c.count, checked: f.checked, example: c.path },
    );
  }
  return f;
}

/**
 * `rlr eval`: one warning when the centre crop drops the borders of test images (their defects
 * there are never scored, their mask pixels never counted), naming the worst one and the fix.
 */
export async function warnAboutTestCrops(samples: readonly Sample[], g: ImageGeometry, log: Logger): Promise<ImageSizeFindings> {
  const f = await checkImageSizes(samples, g);
  const c = f.cropped;
  if (c) {
    log.warn(
      `the centre crop ${g.crop.join('x')} drops the borders of ${c.count} of ${f.checked} test images (the worst, ${c.path}, ${c.height}x${c.width} px, keeps ${(c.kept * 100).toFixed(0)}% of its pixels): defects there are not scored and their mask pixels are not counted; fix: train with --resize-mode fit or stretch, or --image-size with the images' aspect ratio`,
      { images: c.count, checked: f.checked, example: c.path },
    );
  }
  return f;
}
