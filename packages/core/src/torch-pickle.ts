/**
 * A restricted unpickler for the `data.pkl` of a `torch.save` archive. It never runs or imports
 * anything: it understands the opcodes pickle protocols 2–4 use for plain data (dicts, lists,
 * tuples, strings, numbers, booleans, None, bytes), builds `collections.OrderedDict` as a Map,
 * rebuilds tensors from `torch._utils._rebuild_tensor_v2` / `_rebuild_parameter` with their
 * storages given as persistent ids, and turns every other class or function reference into an
 * inert {@link PickledObject} marker (so that, say, an `argparse.Namespace` saved beside the
 * weights is skipped instead of executed). Opcodes outside that set are refused.
 */

/** A storage referenced by a persistent id `('storage', torch.<Type>Storage, key, location, numel)`. */
export interface PickledStorage {
  kind: 'storage';
  /** Storage class name, e.g. `FloatStorage`, `HalfStorage`. */
  type: string;
  /** Entry `data/<key>` of the archive. */
  key: string;
  /** Elements in the storage. */
  numel: number;
}

/** A tensor view of a storage. */
export interface PickledTensor {
  kind: 'tensor';
  storage: PickledStorage;
  /** Offset into the storage, in elements. */
  offset: number;
  shape: number[];
  /** Strides in elements. */
  stride: number[];
}

/** A reference to a class or function (`module.name`), or the inert result of calling one. */
export interface PickledObject {
  kind: 'object';
  module: string;
  name: string;
}

/** Values the unpickler produces. */
export type PickleValue =
  | null
  | boolean
  | number
  | string
  | Uint8Array
  | PickleValue[]
  | Map<PickleValue, PickleValue>
  | PickledStorage
  | PickledTensor
  | PickledObject;

const MARK = Symbol('mark');
type StackItem = PickleValue | typeof MARK;

const isObject = (v: unknown, module: string, name: string): boolean =>
  !!v && typeof v === 'object' && (v as PickledObject).kind === 'object' && (v as PickledObject).module === module && (v as PickledObject).name === name;

function asTensor(v: PickleValue | undefined): PickledTensor | null {
  return v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Map) && !(v instanceof Uint8Array) && v.kind === 'tensor' ? v : null;
}

/** Apply a pickled callable to its arguments, for the few callables a checkpoint needs. */
function reduce(fn: PickleValue, args: PickleValue, where: string): PickleValue {
  const a = Array.isArray(args) ? args : [];
  if (isObject(fn, 'collections', 'OrderedDict')) return new Map();
  if (isObject(fn, 'torch._utils', '_rebuild_tensor_v2') || isObject(fn, 'torch._utils', '_rebuild_tensor')) {
    const [storage, offset, shape, stride] = a;
    const s = storage as PickledStorage | null;
    if (!s || typeof s !== 'object' || (s).kind !== 'storage' || typeof offset !== 'number' || !Array.isArray(shape) || !Array.isArray(stride)) {
      throw new Error(`${where}: a tensor is stored in a form this reader does not know (${fn && typeof fn === 'object' && 'name' in fn ? fn.name : 'rebuild'} with unexpected arguments)`);
    }
    return { kind: 'tensor', storage: s, offset, shape: shape as number[], stride: stride as number[] };
  }
  if (isObject(fn, 'torch._utils', '_rebuild_parameter') || isObject(fn, 'torch._utils', '_rebuild_parameter_with_state')) {
    const t = asTensor(a[0]);
    if (!t) throw new Error(`${where}: a parameter holds no tensor`);
    return t;
  }
  const ref = fn as PickledObject;
  return { kind: 'object', module: ref?.module ?? '?', name: ref?.name ?? '?' };
}

/**
 * Unpickle `bytes` (a torch `data.pkl`).
 * @param where names the file in errors
 */
export function unpickleTorch(bytes: Uint8Array, where: string): PickleValue {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const utf8 = new TextDecoder();
  const latin1 = new TextDecoder('latin1');
  const stack: StackItem[] = [];
  const memo = new Map<number, PickleValue>();
  let pos = 0;
  const need = (n: number) => {
    if (pos + n > bytes.length) throw new Error(`${where}: the pickle ends in the middle of a value (truncated file?)`);
  };
  const u8 = () => (need(1), bytes[pos++]);
  const u16 = () => (need(2), (pos += 2), view.getUint16(pos - 2, true));
  const u32 = () => (need(4), (pos += 4), view.getUint32(pos - 4, true));
  const u64 = () => {
    const lo = u32();
    return lo + u32() * 2 ** 32;
  };
  const take = (n: number) => (need(n), (pos += n), bytes.subarray(pos - n, pos));
  const line = () => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) throw new Error(`${where}: unterminated GLOBAL in the pickle`);
    const s = latin1.decode(bytes.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const pop = (): PickleValue => {
    const v = stack.pop();
    if (v === undefined || v === MARK) throw new Error(`${where}: malformed pickle (stack underflow)`);
    return v;
  };
  const popMark = (): PickleValue[] => {
    const i = stack.lastIndexOf(MARK);
    if (i < 0) throw new Error(`${where}: malformed pickle (no MARK)`);
    const items = stack.splice(i) as PickleValue[];
    return items.slice(1);
  };
  const top = (): PickleValue => {
    const v = stack[stack.length - 1];
    if (v === undefined || v === MARK) throw new Error(`${where}: malformed pickle (empty stack)`);
    return v;
  };
  const setItems = (target: PickleValue, kv: PickleValue[]) => {
    if (!(target instanceof Map)) throw new Error(`${where}: malformed pickle (SETITEMS on a non-dict)`);
    for (let i = 0; i + 1 < kv.length; i += 2) target.set(kv[i], kv[i + 1]);
  };
  const append = (target: PickleValue, items: PickleValue[]) => {
    if (!Array.isArray(target)) throw new Error(`${where}: malformed pickle (APPEND on a non-list)`);
    target.push(...items);
  };
  for (;;) {
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        u8();
        break;
      case 0x95: // FRAME
        take(8);
        break;
      case 0x2e: // STOP
        return pop();
      case 0x28: // MARK
        stack.push(MARK);
        break;
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x5d: // EMPTY_LIST
      case 0x29: // EMPTY_TUPLE
      case 0x8f: // EMPTY_SET
        stack.push([]);
        break;
      case 0x74: // TUPLE
      case 0x6c: // LIST
      case 0x91: // FROZENSET
        stack.push(popMark());
        break;
      case 0x85: // TUPLE1
        stack.push([pop()]);
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        stack.push([pop(), b]);
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        stack.push([pop(), b, c]);
        break;
      }
      case 0x64: {
        // DICT
        const m = new Map<PickleValue, PickleValue>();
        setItems(m, popMark());
        stack.push(m);
        break;
      }
      case 0x61: {
        // APPEND
        const v = pop();
        append(top(), [v]);
        break;
      }
      case 0x65: // APPENDS
      case 0x90: {
        // ADDITEMS
        const items = popMark();
        append(top(), items);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const kv = popMark();
        setItems(top(), kv);
        break;
      }
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
      case 0x6a: {
        // LONG_BINGET
        const k = op === 0x68 ? u8() : u32();
        if (!memo.has(k)) throw new Error(`${where}: malformed pickle (memo ${k} unset)`);
        stack.push(memo.get(k)!);
        break;
      }
      case 0x4a: // BININT
        need(4);
        stack.push(view.getInt32(pos, true));
        pos += 4;
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x8a: {
        // LONG1: little-endian two's complement
        const n = u8();
        const b = take(n);
        let v = 0;
        for (let i = n - 1; i >= 0; i--) v = v * 256 + b[i];
        if (n > 0 && b[n - 1] & 0x80) v -= 2 ** (8 * n);
        stack.push(v);
        break;
      }
      case 0x47: // BINFLOAT (big-endian)
        need(8);
        stack.push(view.getFloat64(pos, false));
        pos += 8;
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x58: // BINUNICODE
        stack.push(utf8.decode(take(u32())));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(utf8.decode(take(u8())));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(utf8.decode(take(u64())));
        break;
      case 0x54: // BINSTRING
        stack.push(latin1.decode(take(u32())));
        break;
      case 0x55: // SHORT_BINSTRING
        stack.push(latin1.decode(take(u8())));
        break;
      case 0x42: // BINBYTES
        stack.push(take(u32()).slice());
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(take(u8()).slice());
        break;
      case 0x63: {
        // GLOBAL
        const module = line();
        stack.push({ kind: 'object', module, name: line() });
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        stack.push({ kind: 'object', module: String(module), name: String(name) });
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        stack.push(reduce(pop(), args, where));
        break;
      }
      case 0x81: {
        // NEWOBJ
        const args = pop();
        stack.push(reduce(pop(), args, where));
        break;
      }
      case 0x62: // BUILD: state of an object (e.g. a state dict's _metadata); not needed
        pop();
        break;
      case 0x51: {
        // BINPERSID
        const pid = pop();
        const [tag, type, key, , numel] = Array.isArray(pid) ? pid : [];
        if (tag !== 'storage' || !type || typeof type !== 'object' || typeof numel !== 'number') {
          throw new Error(`${where}: unknown persistent id in the pickle (not a torch storage)`);
        }
        stack.push({ kind: 'storage', type: (type as PickledObject).name, key: String(key), numel });
        break;
      }
      case 0x30: // POP
        stack.pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      default:
        throw new Error(
          `${where}: pickle opcode 0x${op.toString(16)} at byte ${pos - 1} is outside the tensor-only subset this reader accepts; convert the checkpoint to safetensors (see the docs on importing official checkpoints)`,
        );
    }
  }
}
