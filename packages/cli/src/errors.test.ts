import { describe, expect, it } from 'vitest';
import { DataError } from '@rlr/data';
import { classifyError, formatError, modelError } from './errors.js';
import { ExitCode } from './exit-codes.js';

describe('errors', () => {
  it('classifies package errors by their message and adds a fix', () => {
    const offline = classifyError(new Error('tf_efficientnet_b6: weights are not in the cache and downloads are disabled (offline)'));
    expect(offline.exitCode).toBe(ExitCode.model);
    expect(offline.hint).toMatch(/--weights/);
    const missing = classifyError(new Error("ENOENT: no such file or directory, scandir '/data/mvtec/bottle/train/good'"));
    expect(missing.exitCode).toBe(ExitCode.data);
    const decode = classifyError(new Error('/x/broken.png: Input buffer contains unsupported image format'));
    expect(decode.exitCode).toBe(ExitCode.data);
    expect(classifyError(new TypeError('x is undefined')).exitCode).toBe(ExitCode.internal);
  });

  it('prints one line plus the fix, and the stack only when verbose', () => {
    const err = modelError('runs/x is not a run directory', 'pass the --out folder of rlr train');
    const short = formatError(err, false);
    expect(short.split('\n')).toEqual(['error: runs/x is not a run directory', '  fix: pass the --out folder of rlr train']);
    const long = formatError(new Error('boom\nsecond line'), true);
    expect(long.split('\n')[0]).toBe('error: boom');
    expect(long).toMatch(/at .*errors\.test\.ts/);
    expect(formatError(new Error('boom\nsecond line'), false)).not.toMatch(/errors\.test\.ts/);
  });
});

describe('DataError from @rlr/data', () => {
  it('shows its problem with the subject, and its fix on its own line, whatever the punctuation', () => {
    const e = new DataError('corrupt', '/d/x.v2.png', 'could not be decoded (e.g. a truncated file). It is corrupt', 'Replace it with an intact copy (v. 2).');
    expect(classifyError(e)).toEqual({ message: '/d/x.v2.png: could not be decoded (e.g. a truncated file). It is corrupt', exitCode: ExitCode.data, hint: 'Replace it with an intact copy (v. 2).' });
    expect(formatError(e, false).split('\n')).toEqual(['error: /d/x.v2.png: could not be decoded (e.g. a truncated file). It is corrupt', '  fix: Replace it with an intact copy (v. 2).']);
  });
});
