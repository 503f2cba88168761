/**
 * Which directory entries are images, which are stray files to skip (and report), and which are
 * unsupported files that must stop loading. Shared by every dataset layout.
 */

/** File extensions read as images (matched case-insensitively, so VisA's `.JPG` counts). */
export const IMAGE_EXTENSIONS: readonly string[] = ['.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp'];

/** Names that operating systems and tools drop into folders; never data. */
const STRAY_NAMES = new Set(['thumbs.db', 'ehthumbs.db', 'ehthumbs_vista.db', 'desktop.ini', '__macosx', '@eadir', '$recycle.bin']);

/** How a directory entry is treated by the loaders. */
export type EntryKind = { kind: 'image' } | { kind: 'stray'; reason: string } | { kind: 'unsupported'; extension: string };

/** The lower-case extension of a file name, with the dot (`''` when there is none). */
export function extensionOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot <= 0 ? '' : name.slice(dot).toLowerCase();
}

/** The file name without its extension (`kos01_part5.jpg` → `kos01_part5`). */
export function stemOf(name: string): string {
  const base = name.slice(name.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return dot <= 0 ? base : base.slice(0, dot);
}

/** Whether `name` has an image extension. */
export function isImageName(name: string): boolean {
  return IMAGE_EXTENSIONS.includes(extensionOf(name));
}

/** Classifies one file name (no folder part). */
export function classifyEntry(name: string): EntryKind {
  const lower = name.toLowerCase();
  if (name.startsWith('.')) return { kind: 'stray', reason: 'hidden file' };
  if (STRAY_NAMES.has(lower)) return { kind: 'stray', reason: 'system file' };
  if (lower.endsWith('~')) return { kind: 'stray', reason: 'editor backup file' };
  if (isImageName(name)) return { kind: 'image' };
  return { kind: 'unsupported', extension: extensionOf(name) };
}
