import { lstat, readdir, readFile, rmdir, stat, unlink } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { writeJsonAtomic } from './atomic-write.js';

/**
 * How `rlr` recognises the folders it created, so that it never writes into, or deletes from, a
 * folder of the user's. Every run folder (`rlr train --out`, the demo's `run/`) and every demo
 * folder (`rlr demo --out`) gets this marker file when rlr creates it; the demo's marker also lists
 * every file the demo wrote (with size and modification time), and a later demo replaces only
 * files on that list that are unchanged.
 */
export const OWNER_FILE = '.rlr-folder.json';

/** One file a demo wrote: path relative to the folder, size in bytes, modification time (ms). */
export type FileRecord = [path: string, size: number, mtimeMs: number];

/** The marker's content. */
export interface OwnerRecord {
  tool: 'rlr';
  /** `run`: a run folder; `demo`: an `rlr demo --out` folder. */
  kind: 'run' | 'demo';
  version: 1;
  created: string;
  updated?: string;
  /** Demo folders: every file the demo wrote, as of `updated`. */
  files?: FileRecord[];
}

/** Files the operating system drops into folders; they do not make a folder "non-empty". */
const SYSTEM_FILES = new Set(['.DS_Store', 'Thumbs.db', 'desktop.ini']);

/** The marker of `dir`, or null when it has none (or one rlr did not write). */
export async function readOwner(dir: string): Promise<OwnerRecord | null> {
  try {
    const r = JSON.parse(await readFile(join(dir, OWNER_FILE), 'utf8')) as Partial<OwnerRecord> | null;
    return r?.tool === 'rlr' && (r.kind === 'run' || r.kind === 'demo') && r.version === 1 ? (r as OwnerRecord) : null;
  } catch {
    return null;
  }
}

/** Write the marker of `dir` (creating the folder), atomically. */
export function writeOwner(dir: string, record: OwnerRecord): Promise<void> {
  return writeJsonAtomic(join(dir, OWNER_FILE), { ...record, updated: new Date().toISOString() });
}

/** What is at `dir`: nothing, a file, or a folder with these entries (system files left out). */
export async function folderEntries(dir: string): Promise<{ kind: 'missing' } | { kind: 'file' } | { kind: 'folder'; entries: string[] }> {
  let st;
  try {
    st = await stat(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    throw e;
  }
  if (!st.isDirectory()) return { kind: 'file' };
  const entries = (await readdir(dir)).filter((n) => !SYSTEM_FILES.has(n)).sort();
  return { kind: 'folder', entries };
}

/**
 * Every file under `dir` (links are listed, not followed), as paths relative to `dir` with `/`
 * separators, sorted; the marker file at the top is left out. Missing `dir`: none.
 */
export async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(sub: string): Promise<void> {
    let entries;
    try {
      entries = await readdir(join(dir, sub), { withFileTypes: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' && sub === '') return;
      throw e;
    }
    for (const e of entries) {
      const rel = sub ? `${sub}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(rel);
      else if (rel !== OWNER_FILE) out.push(rel);
    }
  }
  await walk('');
  return out.sort();
}

/** `files` (relative to `dir`) with their current size and modification time. */
export async function recordFiles(dir: string, files: string[]): Promise<FileRecord[]> {
  const out: FileRecord[] = [];
  for (const f of files) {
    try {
      const st = await lstat(join(dir, f));
      out.push([f, st.size, st.mtimeMs]);
    } catch {
      // gone since it was listed
    }
  }
  return out;
}

/**
 * The first file under `dir` that is not on `known` or changed since it was recorded there, with
 * why; undefined when every file is rlr's own and unchanged.
 */
export async function firstForeignFile(dir: string, known: FileRecord[]): Promise<{ path: string; why: string; count: number } | undefined> {
  const byPath = new Map(known.map((r) => [r[0], r]));
  let first: { path: string; why: string } | undefined;
  let count = 0;
  for (const f of await listFiles(dir)) {
    const r = byPath.get(f);
    let why: string | undefined;
    if (!r) why = 'was not written by rlr';
    else {
      const st = await lstat(join(dir, f));
      if (st.size !== r[1] || st.mtimeMs !== r[2]) why = 'changed since rlr wrote it';
    }
    if (why) {
      count++;
      first ??= { path: join(dir, f), why };
    }
  }
  return first ? { ...first, count } : undefined;
}

/**
 * Delete `files` (relative to `dir`), then each folder below `dir` that this left empty. Nothing
 * else is touched: a folder that still holds something stays.
 */
export async function removeFiles(dir: string, files: string[]): Promise<void> {
  const root = resolve(dir);
  const parents = new Set<string>();
  for (const f of files) {
    const path = resolve(root, f);
    if (!path.startsWith(root + sep)) continue; // never outside dir
    await unlink(path).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
    for (let p = dirname(path); p.startsWith(root + sep); p = dirname(p)) parents.add(p);
  }
  // Deepest first, so a folder's sub-folders go before it.
  for (const p of [...parents].sort((a, b) => relative(root, b).split(sep).length - relative(root, a).split(sep).length)) {
    await rmdir(p).catch(() => undefined); // not empty (or already gone): keep it
  }
}
