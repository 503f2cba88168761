/**
 * Safetensors reader and writer (https://github.com/huggingface/safetensors format):
 * 8-byte little-endian header length, a JSON header `{name: {dtype, shape, data_offsets}}`
 * (plus optional `__metadata__` of string values), then the raw little-endian tensor bytes.
 * Floating-point tensors of any width decode to Float32Array so callers see one type.
 */

/** Element types the reader understands. */
export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

/** One decoded tensor. Floating-point data is always returned as float32. */
export interface NamedTensor {
  /** The dtype as stored in the file. */
  dtype: SafetensorsDtype;
  shape: number[];
  data: Float32Array | Int32Array | Uint8Array | Int8Array | Int16Array;
}

/** Decoded file: tensors by name, in file order, and the header's string metadata. */
export interface SafetensorsFile {
  tensors: Map<string, NamedTensor>;
  metadata: Record<string, string>;
}

const BYTES: Record<SafetensorsDtype, number> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1,
};

/** Convert IEEE half-precision bits to a float. */
export function float16ToFloat32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Round a float to the nearest IEEE half (ties to even), returning its 16 bits. */
export function float32ToFloat16(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
  return sign | half;
}

function decode(dtype: SafetensorsDtype, bytes: Uint8Array, name: string): NamedTensor['data'] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = bytes.byteLength / BYTES[dtype];
  switch (dtype) {
    case 'F32': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
      return out;
    }
    case 'F64': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(i * 8, true);
      return out;
    }
    case 'F16': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = float16ToFloat32(view.getUint16(i * 2, true));
      return out;
    }
    case 'BF16': {
      const out = new Float32Array(n);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) bits[i] = view.getUint16(i * 2, true) << 16;
      return out;
    }
    case 'I64': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const v = view.getBigInt64(i * 8, true);
        if (v > 2147483647n || v < -2147483648n) {
          throw new Error(`safetensors: tensor "${name}" holds an int64 outside the int32 range (${v})`);
        }
        out[i] = Number(v);
      }
      return out;
    }
    case 'I32': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt32(i * 4, true);
      return out;
    }
    case 'I16': {
      const out = new Int16Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt16(i * 2, true);
      return out;
    }
    case 'I8':
      return new Int8Array(bytes.slice().buffer);
    case 'U8':
    case 'BOOL':
      return bytes.slice();
  }
}

/**
 * Parse a safetensors file held in memory.
 * @param bytes the whole file
 * @param source a name for error messages (file path or URL)
 * @throws when the header is malformed, a dtype is unsupported or offsets run past the end
 */
export function parseSafetensors(bytes: Uint8Array, source = 'safetensors data'): SafetensorsFile {
  if (bytes.byteLength < 8) throw new Error(`${source}: too short to be a safetensors file (${bytes.byteLength} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (headerLen <= 0 || 8 + headerLen > bytes.byteLength) {
    throw new Error(`${source}: header length ${headerLen} does not fit in ${bytes.byteLength} bytes; the file is truncated or not safetensors`);
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen))) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`${source}: header is not valid JSON (${(e as Error).message}); the file is corrupt or not safetensors`);
  }
  const body = bytes.subarray(8 + headerLen);
  const tensors = new Map<string, NamedTensor>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = (entry ?? {}) as Record<string, string>;
      continue;
    }
    const { dtype, shape, data_offsets: offsets } = entry as { dtype: string; shape: number[]; data_offsets: [number, number] };
    if (!(dtype in BYTES)) throw new Error(`${source}: tensor "${name}" has unsupported dtype ${dtype}`);
    const dt = dtype as SafetensorsDtype;
    const count = shape.reduce((a, b) => a * b, 1);
    const [start, end] = offsets;
    if (end > body.byteLength || end - start !== count * BYTES[dt]) {
      throw new Error(`${source}: tensor "${name}" (${dt} ${JSON.stringify(shape)}) has offsets ${start}..${end} that do not match its size or run past the end of the file (truncated download?)`);
    }
    tensors.set(name, { dtype: dt, shape: [...shape], data: decode(dt, body.subarray(start, end), name) });
  }
  return { tensors, metadata };
}

/** A tensor to write: float data is stored as F32 unless `dtype: 'F16'` is asked for. */
export interface TensorToWrite {
  shape: number[];
  data: Float32Array | Int32Array | Uint8Array;
  dtype?: 'F32' | 'F16' | 'I32' | 'U8';
}

/**
 * Serialize tensors to safetensors bytes (names sorted, 8-byte aligned header as the reference
 * implementation does).
 */
export function serializeSafetensors(
  tensors: Map<string, TensorToWrite> | Record<string, TensorToWrite>,
  metadata?: Record<string, string>,
): Uint8Array {
  const entries = (tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors)).sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0,
  );
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  const plans: { dtype: SafetensorsDtype; t: TensorToWrite; start: number; bytes: number }[] = [];
  for (const [name, t] of entries) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) {
      throw new Error(`serializeSafetensors: tensor "${name}" has shape ${JSON.stringify(t.shape)} but ${t.data.length} values`);
    }
    const dtype: SafetensorsDtype =
      t.dtype ?? (t.data instanceof Float32Array ? 'F32' : t.data instanceof Int32Array ? 'I32' : 'U8');
    const bytes = count * BYTES[dtype];
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    plans.push({ dtype, t, start: offset, bytes });
    offset += bytes;
  }
  let json = JSON.stringify(header);
  const pad = (8 - ((new TextEncoder().encode(json).length) % 8)) % 8;
  json += ' '.repeat(pad);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  const base = 8 + headerBytes.length;
  for (const { dtype, t, start } of plans) {
    const d = t.data;
    const at = base + start;
    for (let i = 0; i < d.length; i++) {
      if (dtype === 'F32') view.setFloat32(at + i * 4, d[i], true);
      else if (dtype === 'F16') view.setUint16(at + i * 2, float32ToFloat16(d[i]), true);
      else if (dtype === 'I32') view.setInt32(at + i * 4, d[i], true);
      else out[at + i] = d[i];
    }
  }
  return out;
}
