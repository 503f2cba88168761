import type { OfficialTensor } from './level-params.js';
import { float16ToFloat32 } from './safetensors.js';
import { isZip, readStoredZip, type ZipEntry } from './stored-zip.js';
import { unpickleTorch, type PickledTensor, type PickleValue } from './torch-pickle.js';

/**
 * Read the authors' `.pth` checkpoint directly: a `torch.save` zip archive (`<name>/data.pkl`,
 * `<name>/data/<key>` raw little-endian storages, `<name>/version`) whose pickle is read by the
 * restricted, tensor-only unpickler of `torch-pickle.ts`.
 *
 * The state dicts are found where the released trainer puts them: `ckpt['state_dict']`, a list
 * with one state dict per feature level. A bare state dict (one level, or names already prefixed
 * `level<i>.`) and a bare list of state dicts are accepted too. A `module.` prefix (DataParallel)
 * is dropped. Float32, float16, bfloat16 and float64 tensors are returned as float32, with
 * `level<i>.` prefixes, ready for `importOfficialTensors`.
 */

const ELEMENT_BYTES: Record<string, number> = { FloatStorage: 4, HalfStorage: 2, BFloat16Storage: 2, DoubleStorage: 8 };

/** Whether `bytes` looks like a `torch.save` zip archive (rather than safetensors). */
export function isTorchZip(bytes: Uint8Array): boolean {
  return isZip(bytes);
}

function storageValues(entry: ZipEntry, type: string, numel: number, where: string): Float32Array {
  const size = ELEMENT_BYTES[type];
  if (!size) throw new Error(`${where} is a ${type.replace('Storage', '')} tensor; RLR parameters are floating point (float32, float16, bfloat16 or float64)`);
  if (entry.data.length < numel * size) throw new Error(`${where}: storage "${entry.name}" holds ${entry.data.length} bytes, fewer than its ${numel} elements need`);
  const view = new DataView(entry.data.buffer, entry.data.byteOffset, numel * size);
  const out = new Float32Array(numel);
  if (type === 'FloatStorage') for (let i = 0; i < numel; i++) out[i] = view.getFloat32(4 * i, true);
  else if (type === 'DoubleStorage') for (let i = 0; i < numel; i++) out[i] = view.getFloat64(8 * i, true);
  else if (type === 'HalfStorage') {
    for (let i = 0; i < numel; i++) out[i] = float16ToFloat32(view.getUint16(2 * i, true));
  } else {
    // bfloat16: the upper half of a float32.
    const u = new Uint32Array(out.buffer);
    for (let i = 0; i < numel; i++) u[i] = view.getUint16(2 * i, true) << 16;
  }
  return out;
}

/** A tensor view (offset, strides) copied out of its storage, row-major. */
function materialise(t: PickledTensor, storage: Float32Array, where: string): OfficialTensor {
  const n = t.shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  const rank = t.shape.length;
  const idx = new Array<number>(rank).fill(0);
  for (let i = 0; i < n; i++) {
    let at = t.offset;
    for (let d = 0; d < rank; d++) at += idx[d] * t.stride[d];
    if (at >= storage.length) throw new Error(`${where}: the tensor reaches past the end of its storage`);
    out[i] = storage[at];
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d] < t.shape[d]) break;
      idx[d] = 0;
    }
  }
  return { shape: [...t.shape], data: out };
}

const isTensor = (v: PickleValue): v is PickledTensor =>
  !!v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Map) && !(v instanceof Uint8Array) && v.kind === 'tensor';

/** The state dicts (one per level) inside the unpickled checkpoint. */
function stateDicts(root: PickleValue, source: string): Map<PickleValue, PickleValue>[] {
  const isStateDict = (v: PickleValue): v is Map<PickleValue, PickleValue> => v instanceof Map && v.size > 0 && [...v.values()].some(isTensor);
  if (root instanceof Map && root.has('state_dict')) return stateDicts(root.get('state_dict')!, source);
  if (Array.isArray(root) && root.length > 0 && root.every(isStateDict)) return root;
  if (isStateDict(root)) return [root];
  throw new Error(
    `${source}: holds no RLR state dict; expected the released trainer's {'state_dict': [level0, level1, ...]}, a list of state dicts, or one state dict of tensors`,
  );
}

/**
 * Official tensors of a `.pth` checkpoint, named `level<i>.<official name>`.
 * @param source names the file in errors
 */
export function readTorchCheckpoint(bytes: Uint8Array, source: string): Map<string, OfficialTensor> {
  if (!isZip(bytes)) {
    throw new Error(
      `${source}: not a zip archive; checkpoints saved by PyTorch before 1.6 (legacy format) are not read: load and re-save it with torch.save (or convert it to safetensors)`,
    );
  }
  const entries = readStoredZip(bytes, source);
  const pkl = [...entries.keys()].find((k) => k === 'data.pkl' || k.endsWith('/data.pkl'));
  if (!pkl) throw new Error(`${source}: the archive has no data.pkl; is it a torch.save checkpoint?`);
  const prefix = pkl.slice(0, pkl.length - 'data.pkl'.length);
  const byteorder = entries.get(`${prefix}byteorder`);
  if (byteorder && new TextDecoder().decode(byteorder.data).trim() !== 'little') {
    throw new Error(`${source}: the storages are big-endian; re-save the checkpoint on a little-endian machine`);
  }
  const root = unpickleTorch(entries.get(pkl)!.data, `${source} (${pkl})`);
  const storages = new Map<string, Float32Array>();
  const out = new Map<string, OfficialTensor>();
  stateDicts(root, source).forEach((dict, level) => {
    for (const [key, value] of dict) {
      if (!isTensor(value)) continue;
      let name = String(key);
      if (name.startsWith('module.')) name = name.slice('module.'.length);
      const full = /^level\d+\./.test(name) ? name : `level${level}.${name}`;
      const where = `${source}: tensor "${full}"`;
      const { storage } = value;
      let data = storages.get(storage.key);
      if (!data) {
        const entry = entries.get(`${prefix}data/${storage.key}`);
        if (!entry) throw new Error(`${where}: its storage data/${storage.key} is not in the archive`);
        data = storageValues(entry, storage.type, storage.numel, where);
        storages.set(storage.key, data);
      }
      out.set(full, materialise(value, data, where));
    }
  });
  return out;
}
