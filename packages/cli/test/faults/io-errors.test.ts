import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDataset } from '@rlr/data/node';
import { classifyError } from '../../src/errors.js';
import { ExitCode } from '../../src/exit-codes.js';
import { binBuilt, runBin } from '../bin-helpers.js';
import { errorLines, tempFolder, TINY } from './fault-helpers.js';

/*
 * Faults: the disk says no (full, read-only, a file in the way) and checkpoints that cannot be
 * used. Each gets its own exit code and a fix that names the path; none is "a bug".
 */
let root: string;
let data: string;

beforeAll(async () => {
  root = await tempFolder('io');
  data = join(root, 'data');
  await generateDataset({ root: data, categories: ['grid'], trainCount: 4, testCount: 2, size: 64, seed: 5 });
});

/** A file-system error as Node's fs raises it. */
function fsError(code: string, syscall: string, path?: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: failed, ${syscall}${path ? ` '${path}'` : ''}`), { code, syscall, path });
}

describe('classifyError: file-system failures are exit 6 and name the path', () => {
  it.each([
    ['ENOSPC', /no space left/, /free space on the disk that holds \/runs\/a\/model\/w\.bin.*--out/],
    ['EDQUOT', /quota/, /free space/],
    ['EROFS', /read-only/, /--out in a folder you can write to/],
    ['EACCES', /permission denied/, /writable .*--out/],
    ['EISDIR', /a folder is where a file is expected/, /pass another --out/],
    ['EMFILE', /too many open files/, /ulimit -n/],
  ])('%s', (code, message, hint) => {
    const c = classifyError(fsError(code, 'write', '/runs/a/model/w.bin'));
    expect(c.exitCode).toBe(ExitCode.io);
    expect(c.message).toMatch(/^\/runs\/a\/model\/w\.bin: /);
    expect(c.message).toMatch(message);
    expect(c.message).toContain(`[${code}]`);
    expect(c.hint).toMatch(hint);
  });

  it('finds the errno in a cause, or in the text of a rethrown error', () => {
    const wrapped = new Error('saving the checkpoint failed', { cause: fsError('ENOSPC', 'write', '/r/checkpoint/c.bin') });
    expect(classifyError(wrapped)).toMatchObject({ exitCode: ExitCode.io, message: '/r/checkpoint/c.bin: no space left on the device (write) [ENOSPC]' });
    const text = classifyError(new Error("/r/x.bin: could not be read (EACCES: permission denied, open '/r/x.bin')"));
    expect(text).toMatchObject({ exitCode: ExitCode.io, message: '/r/x.bin: permission denied [EACCES]' });
    // ENOENT stays a data error (a missing dataset), not a disk problem.
    expect(classifyError(fsError('ENOENT', 'scandir', '/d/train')).exitCode).toBe(ExitCode.data);
  });

  it("checkpoint errors get a checkpoint fix naming the run's folder, not --model", () => {
    const c = classifyError(new Error('/runs/a/checkpoint: unreadable (Unexpected token)'));
    expect(c.exitCode).toBe(ExitCode.model);
    expect(c.hint).toContain('delete (or move away) /runs/a/checkpoint');
    expect(c.hint).toContain('rlr train --out /runs/a --resume');
    expect(c.hint).not.toMatch(/--model/);
  });
});

describe.skipIf(!binBuilt)('through the binary', () => {
  it('--out under a regular file (ENOTDIR), for train and eval: exit 6 naming the file', async () => {
    const file = join(root, 'a-file');
    await writeFile(file, 'in the way');
    const train = await runBin(['train', '--data', data, '--format', 'mvtec', ...TINY, '--out', join(file, 'run')]);
    const t = errorLines(train, 6);
    expect(t.error).toContain(`${file} is a file, not a folder`);
    expect(t.fix).toContain('--out');
    const evaluated = await runBin(['eval', '--model', join(root, 'any'), '--out', join(file, 'report')]);
    expect(errorLines(evaluated, 6).error).toContain(`${file} is a file`);
  });

  it('an unusable checkpoint on --resume: exit 4 with the checkpoint fix', async () => {
    const run = join(root, 'run');
    const ok = await runBin(['train', '--data', data, '--format', 'mvtec', ...TINY, '--epochs', '1', '--out', run, '--quiet']);
    expect(ok.code, ok.stderr.slice(-1500)).toBe(0);
    await writeFile(join(run, 'checkpoint', 'checkpoint.json'), '{ not json');
    const r = await runBin(['train', '--out', run, '--resume', '--epochs', '2']);
    const { fix } = errorLines(r, 4);
    expect(fix).toContain(join(run, 'checkpoint'));
    expect(fix).toContain('--resume');
    expect(fix).not.toMatch(/--model/);
  });
});

/*
 * A real full disk and a real read-only file system, from tiny tmpfs mounts: only where this
 * process may mount (root on Linux with the capability); elsewhere the classifier tests above
 * stand for them. (chmod cannot stand in: root ignores permissions.)
 */
const mounts: string[] = [];
function mountTmpfs(dir: string, options: string): boolean {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  spawnSync('mkdir', ['-p', dir]);
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { stdio: 'ignore' });
  if (r.status !== 0) return false;
  mounts.push(dir);
  return true;
}
afterAll(() => {
  for (const m of mounts) spawnSync('umount', [m], { stdio: 'ignore' });
});

describe.skipIf(!binBuilt)('a real full disk and a read-only file system (tmpfs)', () => {
  it('disk full while writing the feature cache: exit 6 naming the file, no run.json left', async (ctx) => {
    const full = join(root, 'full');
    if (!mountTmpfs(full, 'size=64k')) return ctx.skip();
    const out = join(full, 'run');
    const r = await runBin(['train', '--data', data, '--format', 'mvtec', ...TINY, '--epochs', '1', '--out', out]);
    const { error, fix } = errorLines(r, 6);
    expect(error).toMatch(new RegExp(`${out}/.*: no space left on the device .*\\[ENOSPC\\]`));
    expect(fix).toMatch(/free space on the disk that holds .*--out on another disk/);
    expect(existsSync(join(out, 'run.json'))).toBe(false);
  });

  it('a read-only --out: exit 6 at once, naming the folder', async (ctx) => {
    const ro = join(root, 'ro');
    await mkdir(ro, { recursive: true });
    if (!mountTmpfs(ro, 'size=64k,ro')) return ctx.skip();
    const r = await runBin(['train', '--data', data, '--format', 'mvtec', ...TINY, '--out', join(ro, 'run')]);
    const { error, fix } = errorLines(r, 6);
    expect(error).toContain(`--out ${join(ro, 'run')} cannot be written: ${ro} is on a read-only file system [EROFS]`);
    expect(fix).toContain('--out in a folder you can write to');
  });
});
