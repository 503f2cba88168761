import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fileStore } from './file-store.js';

/** A fresh temporary folder, removed after the test file finishes. */
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rlr-core-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('fileStore', () => {
  const dir = join(tempDir(), 'models', 'run1');

  it('writes (creating folders), reads, checks and removes blobs', async () => {
    const store = fileStore(dir);
    expect(store.location).toBe(dir);
    expect(await store.exists('config.json')).toBe(false);
    await store.write('config.json', new TextEncoder().encode('{"a":1}'));
    await store.write('levels/0/weights.safetensors', new Uint8Array([1, 2, 3]));
    expect(new TextDecoder().decode(await store.read('config.json'))).toBe('{"a":1}');
    expect([...(await store.read('levels/0/weights.safetensors'))]).toEqual([1, 2, 3]);
    expect(await store.exists('levels/0/weights.safetensors')).toBe(true);
    expect(await store.exists('levels')).toBe(false); // a folder is not a blob
    await store.write('config.json', new Uint8Array([9])); // replace
    expect([...(await store.read('config.json'))]).toEqual([9]);
    await store.remove('config.json');
    await store.remove('config.json'); // removing twice is fine
    expect(await store.exists('config.json')).toBe(false);
    expect(readdirSync(dir)).toEqual(['levels']); // no temporary files left behind
  });

  it('names the store and blob when reading a missing blob', async () => {
    await expect(fileStore(dir).read('nope.bin')).rejects.toThrow(`${join(dir, 'nope.bin')}: no such blob in ${dir}`);
  });

  it('refuses names that leave the directory', async () => {
    const store = fileStore(dir);
    await expect(store.write('../escape.bin', new Uint8Array(1))).rejects.toThrow(/must be a relative path inside the store/);
    await expect(store.read('/etc/passwd')).rejects.toThrow(/must be a relative path/);
    await expect(store.exists('../../x')).rejects.toThrow(/must be a relative path/);
  });
});
