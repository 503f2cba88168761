import { constants } from 'node:fs';
import { access, realpath, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { ioError } from './errors.js';

/**
 * The real path of `path` (links resolved) for a path that may not exist yet: the real path of its
 * nearest existing ancestor, with the rest appended.
 */
export async function realPathOf(path: string): Promise<string> {
  const abs = resolve(path);
  try {
    return await realpath(abs);
  } catch {
    const parent = dirname(abs);
    return parent === abs ? abs : join(await realPathOf(parent), basename(abs));
  }
}

/** Whether `path` is `dir` or below it, once links are resolved (neither needs to exist). */
export async function isInsidePath(path: string, dir: string): Promise<boolean> {
  const rel = relative(await realPathOf(dir), await realPathOf(path));
  return rel === '' || (!isAbsolute(rel) && rel !== '..' && !rel.startsWith(`..${sep}`));
}

/**
 * Check, before any work, that `dir` (an output folder, which may not exist yet) can be created and
 * written: its nearest existing ancestor must be a writable folder. A read-only file system or a
 * folder without write permission is reported at once, naming the folder, as a file-system error.
 * @param flag - the option that named `dir`, for the message (`--out`)
 */
export async function checkWritable(dir: string, flag: string): Promise<void> {
  // The nearest existing ancestor (a file on the way is reported as such).
  let p = resolve(dir);
  for (;;) {
    let st;
    try {
      st = await stat(p);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw e;
      const parent = dirname(p);
      if (parent === p) return;
      p = parent;
      continue;
    }
    if (!st.isDirectory()) {
      throw ioError(`${flag} ${dir}: ${p} is a file, not a folder [ENOTDIR]`, `pass an ${flag} that is a folder (or a new path), or move ${p} away`);
    }
    break;
  }
  try {
    await access(p, constants.W_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'EACCES';
    const why = code === 'EROFS' ? 'is on a read-only file system' : 'is not writable for you';
    throw ioError(`${flag} ${dir} cannot be written: ${p} ${why} [${code}]`, `pass an ${flag} in a folder you can write to${code === 'EROFS' ? '' : `, or make ${p} writable`}`, e);
  }
}
