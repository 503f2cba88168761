import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireShared } from '@rlr/testing';
import { float16ToFloat32, float32ToFloat16, parseSafetensors, serializeSafetensors } from './safetensors.js';

describe('safetensors', () => {
  it('round-trips float32, int32 and uint8 tensors with metadata', () => {
    const a = new Float32Array([1.5, -2.25, 3e-8, 65504, -0.0]);
    const bytes = serializeSafetensors(
      { b: { shape: [5], data: a }, a: { shape: [2, 2], data: new Int32Array([1, -2, 3, 2 ** 30]) }, c: { shape: [3], data: new Uint8Array([0, 1, 255]) } },
      { format: 'pt' },
    );
    const { tensors, metadata } = parseSafetensors(bytes);
    expect(metadata).toEqual({ format: 'pt' });
    expect([...tensors.keys()]).toEqual(['a', 'b', 'c']);
    expect(Array.from(tensors.get('b')!.data)).toEqual(Array.from(a));
    expect(tensors.get('a')!.shape).toEqual([2, 2]);
    expect(Array.from(tensors.get('a')!.data)).toEqual([1, -2, 3, 2 ** 30]);
    expect(Array.from(tensors.get('c')!.data)).toEqual([0, 1, 255]);
    // header is padded so the data starts 8-byte aligned
    expect(Number(new DataView(bytes.buffer).getBigUint64(0, true)) % 8).toBe(0);
  });

  it('stores float16 within half precision and decodes it to float32', () => {
    const x = new Float32Array([0, 1, -1, 0.1, 1000.5, 6e-5, 1e-7, 70000]);
    const { tensors } = parseSafetensors(serializeSafetensors({ x: { shape: [8], data: x, dtype: 'F16' } }));
    const t = tensors.get('x')!;
    expect(t.dtype).toBe('F16');
    const y = t.data as Float32Array;
    for (let i = 0; i < 6; i++) expect(Math.abs(y[i] - x[i])).toBeLessThanOrEqual(Math.abs(x[i]) * 2 ** -11 + 1e-7);
    expect(y[7]).toBe(Infinity);
  });

  it('half conversion is exact on representable values and rounds ties to even', () => {
    for (const bits of [0x0000, 0x0001, 0x03ff, 0x0400, 0x3c00, 0x7bff, 0xbc00, 0xfbff]) {
      expect(float32ToFloat16(float16ToFloat32(bits))).toBe(bits);
    }
    // 1 + 2^-11 lies halfway between 1 and the next half (1 + 2^-10): ties to even gives 1
    expect(float32ToFloat16(1 + 2 ** -11)).toBe(0x3c00);
    expect(float32ToFloat16(1 + 3 * 2 ** -11)).toBe(0x3c02);
  });

  it('rejects truncated files naming the source and tensor', () => {
    const bytes = serializeSafetensors({ w: { shape: [4], data: new Float32Array(4) } });
    expect(() => parseSafetensors(bytes.subarray(0, bytes.length - 4), 'w.safetensors')).toThrow(/w.safetensors: tensor "w"/);
    expect(() => parseSafetensors(new Uint8Array(3), 'x.bin')).toThrow(/x.bin: too short/);
  });

  const fixtures = requireShared('fixtures/rlr/params.safetensors');
  it.skipIf(!fixtures)('reads the reference parameter fixture written by the Python library', () => {
    const { tensors } = parseSafetensors(readFileSync(fixtures!), 'params.safetensors');
    const w = tensors.get('level0.embedding.project_embedding.project.weight')!;
    expect(w.dtype).toBe('F32');
    expect(w.shape).toEqual([32, 24, 1]);
    expect(w.data.length).toBe(32 * 24);
    expect(Number.isFinite(w.data[0])).toBe(true);
    const manifest = JSON.parse(readFileSync(join(fixtures!, '..', 'manifest.json'), 'utf8'));
    for (const [name, shape] of Object.entries(manifest.param_shapes as Record<string, number[]>)) {
      expect(tensors.get(name)?.shape, name).toEqual(shape);
    }
  });
});
