/**
 * A test-only writer of `torch.save` archives, following the layout PyTorch (≥ 1.6) produces:
 * a STORED zip with `<archive>/data.pkl` (pickle protocol 2), `<archive>/byteorder`,
 * `<archive>/data/<key>` (raw little-endian storages, data aligned to 64 bytes through a padding
 * extra field as PyTorch does) and `<archive>/version`. The pickle is what the released trainer
 * saves: `{'state_dict': [OrderedDict(level0), OrderedDict(level1), …], 'epoch': …, 'args':
 * Namespace(…), 'best_img_auroc': …}`, tensors rebuilt by `torch._utils._rebuild_tensor_v2` from
 * persistent-id storages. Written from the format description, without PyTorch.
 */

/** A tensor to write. */
export interface PthTensor {
  shape: number[];
  data: Float32Array;
}

export interface PthOptions {
  /** `trainer` (default): the released trainer's dict; `list`: a bare list; `dict`: one state dict. */
  layout?: 'trainer' | 'list' | 'dict';
  /** Storage type of every tensor (default float32). */
  dtype?: 'float32' | 'float16';
  /** Put all tensors of a level in one storage, each at its own offset (as views of a flat buffer). */
  shareStorage?: boolean;
  /** Folder name inside the archive (default `archive`). */
  archive?: string;
  /** Write the entries DEFLATE-flagged (method 8) to test the refusal; the bytes stay stored. */
  claimCompressed?: boolean;
}

class PickleWriter {
  private out: number[] = [];
  private memo = 0;
  private globals = new Map<string, number>();

  byte(...b: number[]): this {
    this.out.push(...b);
    return this;
  }
  u32(n: number): this {
    return this.byte(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff);
  }
  put(): this {
    // BINPUT for small memo keys, LONG_BINPUT beyond, as CPython's pickler does.
    const k = this.memo++;
    return k < 256 ? this.byte(0x71, k) : this.byte(0x72).u32(k);
  }
  get(k: number): this {
    return k < 256 ? this.byte(0x68, k) : this.byte(0x6a).u32(k);
  }
  str(s: string): this {
    const b = new TextEncoder().encode(s);
    if (b.length < 256) this.byte(0x8c, b.length);
    else this.byte(0x58).u32(b.length);
    this.byte(...b);
    return this.put();
  }
  int(n: number): this {
    if (n >= 0 && n < 256) return this.byte(0x4b, n);
    if (n >= 0 && n < 65536) return this.byte(0x4d, n & 0xff, n >> 8);
    return this.byte(0x4a).u32(n);
  }
  float(x: number): this {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, x, false);
    return this.byte(0x47, ...b);
  }
  global(module: string, name: string): this {
    const key = `${module}.${name}`;
    const seen = this.globals.get(key);
    if (seen !== undefined) return this.get(seen);
    this.byte(0x63, ...new TextEncoder().encode(`${module}\n${name}\n`));
    this.globals.set(key, this.memo);
    return this.put();
  }
  tuple(items: number[]): this {
    if (items.length === 0) return this.byte(0x29);
    if (items.length <= 3) {
      for (const v of items) this.int(v);
      return this.byte([0x85, 0x86, 0x87][items.length - 1]).put();
    }
    this.byte(0x28);
    for (const v of items) this.int(v);
    return this.byte(0x74).put();
  }
  orderedDict(): this {
    return this.global('collections', 'OrderedDict').byte(0x29, 0x52).put();
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.out);
  }
}

const CRC = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(b: Uint8Array): number {
  let c = 0xffffffff;
  for (const x of b) c = CRC[(c ^ x) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A STORED zip of `entries` with PyTorch's 64-byte data alignment. */
export function writeStoredZip(entries: [string, Uint8Array][], claimCompressed = false): Uint8Array {
  const parts: number[] = [];
  const central: number[] = [];
  const le16 = (a: number[], n: number) => a.push(n & 0xff, (n >> 8) & 0xff);
  const le32 = (a: number[], n: number) => a.push(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff);
  const method = claimCompressed ? 8 : 0;
  for (const [name, data] of entries) {
    const nameBytes = new TextEncoder().encode(name);
    const offset = parts.length;
    const headerEnd = offset + 30 + nameBytes.length + 4;
    const pad = (64 - (headerEnd % 64)) % 64;
    const crc = crc32(data);
    le32(parts, 0x04034b50);
    le16(parts, 20);
    le16(parts, 0);
    le16(parts, method);
    le16(parts, 0);
    le16(parts, 0x21);
    le32(parts, crc);
    le32(parts, data.length);
    le32(parts, data.length);
    le16(parts, nameBytes.length);
    le16(parts, 4 + pad);
    parts.push(...nameBytes);
    le16(parts, 0x4246); // "FB": PyTorch's padding field
    le16(parts, pad);
    for (let i = 0; i < pad; i++) parts.push(0x5a);
    for (const x of data) parts.push(x);
    le32(central, 0x02014b50);
    le16(central, 20);
    le16(central, 20);
    le16(central, 0);
    le16(central, method);
    le16(central, 0);
    le16(central, 0x21);
    le32(central, crc);
    le32(central, data.length);
    le32(central, data.length);
    le16(central, nameBytes.length);
    le16(central, 0);
    le16(central, 0);
    le16(central, 0);
    le16(central, 0);
    le32(central, 0);
    le32(central, offset);
    central.push(...nameBytes);
  }
  const cdOffset = parts.length;
  const eocd: number[] = [];
  le32(eocd, 0x06054b50);
  le16(eocd, 0);
  le16(eocd, 0);
  le16(eocd, entries.length);
  le16(eocd, entries.length);
  le32(eocd, central.length);
  le32(eocd, cdOffset);
  le16(eocd, 0);
  return Uint8Array.from([...parts, ...central, ...eocd]);
}

/** IEEE half precision bits of `v`, rounded to nearest (enough for test values; no subnormal care). */
function toHalf(v: number): number {
  const f = new Float32Array([v]);
  const x = new Uint32Array(f.buffer)[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = ((x >>> 23) & 0xff) - 127 + 15;
  const mant = x & 0x7fffff;
  if (exp <= 0) return sign; // flush tiny values to ±0
  if (exp >= 31) return sign | 0x7c00;
  const h = sign | (exp << 10) | (mant >> 13);
  return mant & 0x1000 ? h + 1 : h;
}

function storageBytes(values: Float32Array, dtype: 'float32' | 'float16'): Uint8Array {
  if (dtype === 'float32') return new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
  const out = new Uint8Array(values.length * 2);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setUint16(2 * i, toHalf(v), true));
  return out;
}

/**
 * A `.pth` archive holding `levels` (official names without prefix, one map per level).
 */
export function writeTorchPth(levels: Map<string, PthTensor>[], o: PthOptions = {}): Uint8Array {
  const dtype = o.dtype ?? 'float32';
  const storageType = dtype === 'float32' ? 'FloatStorage' : 'HalfStorage';
  const archive = o.archive ?? 'archive';
  const p = new PickleWriter().byte(0x80, 2);
  const storages: Float32Array[] = [];
  const writeLevel = (level: Map<string, PthTensor>) => {
    p.orderedDict();
    p.byte(0x28); // MARK for SETITEMS
    let shared: { key: number; data: Float32Array } | null = null;
    if (o.shareStorage) {
      const total = [...level.values()].reduce((a, t) => a + t.data.length, 0);
      shared = { key: storages.length, data: new Float32Array(total) };
      storages.push(shared.data);
    }
    let at = 0;
    for (const [name, t] of level) {
      p.str(name);
      let key: number;
      let offset = 0;
      if (shared) {
        shared.data.set(t.data, at);
        key = shared.key;
        offset = at;
        at += t.data.length;
      } else {
        key = storages.length;
        storages.push(t.data);
      }
      const numel = shared ? shared.data.length : t.data.length;
      const stride = t.shape.map((_, i) => t.shape.slice(i + 1).reduce((a, b) => a * b, 1));
      p.global('torch._utils', '_rebuild_tensor_v2');
      p.byte(0x28); // MARK: the argument tuple
      p.byte(0x28).str('storage').global('torch', storageType).str(String(key)).str('cpu').int(numel).byte(0x74).put().byte(0x51).put();
      p.int(offset).tuple(t.shape).tuple(stride).byte(0x89).orderedDict();
      p.byte(0x74).put().byte(0x52).put();
    }
    p.byte(0x75); // SETITEMS
    // The state dict's _metadata, set through BUILD as OrderedDict.__reduce__ does.
    p.byte(0x7d).put().str('_metadata').orderedDict().byte(0x73).byte(0x62);
  };
  const layout = o.layout ?? 'trainer';
  if (layout === 'dict') writeLevel(levels[0]);
  else {
    if (layout === 'trainer') p.byte(0x7d).put().byte(0x28).str('state_dict');
    p.byte(0x5d).put().byte(0x28);
    for (const lv of levels) writeLevel(lv);
    p.byte(0x65); // APPENDS
    if (layout === 'trainer') {
      p.str('epoch').int(200);
      p.str('args').global('argparse', 'Namespace').byte(0x29, 0x81).put().byte(0x7d).str('lr').float(1e-4).byte(0x73, 0x62);
      p.str('best_img_auroc').float(0.986);
      p.byte(0x75);
    }
  }
  p.byte(0x2e);
  const entries: [string, Uint8Array][] = [[`${archive}/data.pkl`, p.bytes()], [`${archive}/byteorder`, new TextEncoder().encode('little')]];
  storages.forEach((s, k) => entries.push([`${archive}/data/${k}`, storageBytes(s, dtype)]));
  entries.push([`${archive}/version`, new TextEncoder().encode('3\n')]);
  return writeStoredZip(entries, o.claimCompressed);
}
