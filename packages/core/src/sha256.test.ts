import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sha256Hex, sha256HexSync, verifySha256 } from './sha256.js';

const nodeSha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('sha256', () => {
  it('matches node:crypto in both the Web Crypto and the pure-JS paths, across padding boundaries', async () => {
    for (const n of [0, 1, 55, 56, 63, 64, 65, 119, 1000, 70_001]) {
      const bytes = new Uint8Array(randomBytes(n));
      expect(sha256HexSync(bytes)).toBe(nodeSha(bytes));
      expect(await sha256Hex(bytes)).toBe(nodeSha(bytes));
    }
    expect(sha256HexSync(new TextEncoder().encode('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('verifySha256 names the file, both digests and the fix', async () => {
    const bytes = new Uint8Array([1, 2, 3]);
    await expect(verifySha256(bytes, nodeSha(bytes).toUpperCase(), 'x', 'fix it')).resolves.toBeUndefined();
    await expect(verifySha256(bytes, '0'.repeat(64), '/m/weights.safetensors', 'Restore it.')).rejects.toThrow(
      new RegExp(`/m/weights.safetensors: checksum mismatch: sha256 is ${nodeSha(bytes)}, the index recorded 0{64}.*Restore it\\.`),
    );
  });
});
