import { realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { DataError } from '../errors.js';

/** Whether `path` is `dir` or lies below it (both absolute and normalised). */
export function isWithin(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!isAbsolute(rel) && rel !== '..' && !rel.startsWith(`..${sep}`));
}

/** The real path of `path` (links resolved), or `path` resolved when it does not exist. */
export async function realOrResolved(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch {
    return resolve(path);
  }
}

/**
 * The folder a loader may read from. Every file it lists is checked to lie inside, links
 * resolved, before anything opens it: a split-file row such as `../../outside/secret.png`, an
 * absolute row, or a symbolic link (to a file or a folder) that points elsewhere is refused.
 */
export class Confinement {
  private constructor(
    /** The folder as given (resolved), for messages. */
    readonly root: string,
    /** Its real path (links resolved). */
    readonly realRoot: string,
    /** How messages call the folder, e.g. `the dataset root`. */
    readonly what: string,
  ) {}

  /** A confinement to `root` (resolved; its own links are followed once, here). */
  static async of(root: string, what = 'the dataset root'): Promise<Confinement> {
    const abs = resolve(root);
    return new Confinement(abs, await realOrResolved(abs), what);
  }

  /**
   * `rel` (a path relative to the root, e.g. from a split file) resolved under the root, refusing
   * absolute paths and `..` escapes by their text alone: nothing outside is even listed.
   * @param where - where the path came from, e.g. `…/1cls.csv line 7`
   */
  join(rel: string, where: string): string {
    if (isAbsolute(rel) || /^[a-zA-Z]:[\\/]/.test(rel) || rel.startsWith('\\')) {
      throw new DataError('outside-root', rel, `(from ${where}) is an absolute path; paths must be relative to ${this.what} ${this.root}`, 'Write the path relative to the root (e.g. bottle/Data/Images/Normal/0000.JPG), or remove the row.');
    }
    const path = resolve(this.root, rel);
    if (!isWithin(path, this.root)) {
      throw new DataError('outside-root', path, `(from ${where}) lies outside ${this.what} ${this.root}: "${rel}" climbs out of it`, 'Only files inside the dataset root are read: fix the path, or move the file into the root.');
    }
    return path;
  }

  /**
   * Checks that `path` (an existing file or folder) is inside the root once links are resolved.
   * @param where - for the message, e.g. `…/1cls.csv line 7`; omitted for listed files
   * @throws {@link DataError} `outside-root` naming the path and where it leads
   */
  async check(path: string, where?: string): Promise<void> {
    let real: string;
    try {
      real = await realpath(path);
    } catch {
      return; // a missing file is reported by the caller, with its own message
    }
    if (!isWithin(real, this.realRoot)) {
      throw new DataError(
        'outside-root',
        path,
        `${where ? `(from ${where}) ` : ''}resolves through a symbolic link to ${real}, outside ${this.what} ${this.root}`,
        'Only files inside the dataset root are read: copy the files into it instead of linking them, or load from a folder that holds them.',
      );
    }
  }
}
