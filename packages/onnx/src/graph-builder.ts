/**
 * A small builder of ONNX graphs: named values, constant initializers and nodes, encoded into a
 * `ModelProto` by protobufjs with the schema of `onnx-schema.ts`.
 */
import { AttributeType, DataType, modelProtoType, ONNX_IR_VERSION, ONNX_OPSET } from './onnx-schema.js';

/** An attribute value: a number is an INT when integral unless given as `{ f }`. */
export type AttributeValue = number | { f: number } | string | number[] | { floats: number[] };

/** A dimension: a fixed size or a symbolic name (e.g. `batch`). */
export type Dim = number | string;

/** A graph input or output. */
export interface ValueInfo {
  name: string;
  elemType: number;
  shape: Dim[];
  doc?: string;
}

interface NodeRecord {
  input: string[];
  output: string[];
  name: string;
  opType: string;
  attribute: Record<string, unknown>[];
}

interface TensorRecord {
  name: string;
  dims: number[];
  dataType: number;
  rawData: Uint8Array;
}

const bytesOf = (a: Float32Array | Int32Array | BigInt64Array | Uint8Array): Uint8Array => {
  // ONNX raw_data is little-endian, which is the byte order of every platform Node runs on.
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength).slice();
};

function attribute(name: string, v: AttributeValue): Record<string, unknown> {
  if (typeof v === 'string') return { name, type: AttributeType.STRING, s: new TextEncoder().encode(v) };
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new Error(`attribute ${name}: ${v} is not an integer (wrap floats as { f })`);
    return { name, type: AttributeType.INT, i: v };
  }
  if (Array.isArray(v)) return { name, type: AttributeType.INTS, ints: v };
  if ('floats' in v) return { name, type: AttributeType.FLOATS, floats: v.floats };
  return { name, type: AttributeType.FLOAT, f: v.f };
}

/** Builds one ONNX graph; values are referred to by name. */
export class GraphBuilder {
  private readonly nodes: NodeRecord[] = [];
  private readonly initializers: TensorRecord[] = [];
  private readonly names = new Set<string>();
  private counter = 0;

  /** A fresh value name starting with `hint`. */
  fresh(hint: string): string {
    let name: string;
    do name = `${hint}_${this.counter++}`;
    while (this.names.has(name));
    this.names.add(name);
    return name;
  }

  /** A float32 constant of shape `dims`. */
  floats(hint: string, data: Float32Array | number[], dims: number[]): string {
    const a = data instanceof Float32Array ? data : Float32Array.from(data);
    const n = dims.reduce((x, y) => x * y, 1);
    if (a.length !== n) throw new Error(`GraphBuilder.floats ${hint}: ${a.length} values for shape [${dims.join(', ')}]`);
    const name = this.fresh(hint);
    this.initializers.push({ name, dims, dataType: DataType.FLOAT, rawData: bytesOf(a) });
    return name;
  }

  /** A float32 scalar constant. */
  scalar(hint: string, v: number): string {
    return this.floats(hint, [v], []);
  }

  /** An int64 constant (shapes, axes, indices). */
  int64s(hint: string, data: number[], dims: number[] = [data.length]): string {
    const name = this.fresh(hint);
    this.initializers.push({ name, dims, dataType: DataType.INT64, rawData: bytesOf(BigInt64Array.from(data.map((x) => BigInt(x)))) });
    return name;
  }

  /**
   * Add a node.
   * @returns the names of its outputs (`outputs` of them)
   */
  nodeN(opType: string, inputs: string[], attrs: Record<string, AttributeValue> = {}, outputs = 1, hint = opType.toLowerCase()): string[] {
    const out = Array.from({ length: outputs }, () => this.fresh(hint));
    this.nodes.push({
      input: inputs,
      output: out,
      name: `${opType}_${this.nodes.length}`,
      opType,
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return out;
  }

  /** Add a node with one output; returns its name. */
  node(opType: string, inputs: string[], attrs: Record<string, AttributeValue> = {}, hint?: string): string {
    return this.nodeN(opType, inputs, attrs, 1, hint)[0];
  }

  /** Give value `from` the graph-level name `to` (an Identity node), e.g. for an output. */
  rename(from: string, to: string): string {
    if (this.names.has(to)) throw new Error(`GraphBuilder: value name ${to} is taken`);
    this.names.add(to);
    this.nodes.push({ input: [from], output: [to], name: `Identity_${this.nodes.length}`, opType: 'Identity', attribute: [] });
    return to;
  }

  /** Reserve a graph input name. */
  input(name: string): string {
    if (this.names.has(name)) throw new Error(`GraphBuilder: value name ${name} is taken`);
    this.names.add(name);
    return name;
  }

  /** Encode the graph as an ONNX model file. */
  encode(o: { name: string; inputs: ValueInfo[]; outputs: ValueInfo[]; metadata: Record<string, string>; producerVersion: string; doc?: string }): Uint8Array {
    const valueInfo = (v: ValueInfo) => ({
      name: v.name,
      docString: v.doc ?? '',
      type: {
        tensorType: {
          elemType: v.elemType,
          shape: { dim: v.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
        },
      },
    });
    const type = modelProtoType();
    const message = type.fromObject({
      irVersion: ONNX_IR_VERSION,
      opsetImport: [{ domain: '', version: ONNX_OPSET }],
      producerName: '@rlr/onnx',
      producerVersion: o.producerVersion,
      docString: o.doc ?? '',
      graph: {
        name: o.name,
        node: this.nodes,
        initializer: this.initializers,
        input: o.inputs.map(valueInfo),
        output: o.outputs.map(valueInfo),
      },
      metadataProps: Object.entries(o.metadata).map(([key, value]) => ({ key, value })),
    });
    return type.encode(message).finish();
  }
}
