// A small builder for ONNX graphs on the ONNX project's own schema (onnx-proto: onnx.proto compiled for
// protobufjs), so that nothing here encodes protobuf by hand: named initializers, nodes with typed
// attributes, and the model around them. Opset 17 (ONNX Runtime 1.14 and later): ReduceSum, Squeeze and
// Unsqueeze take their axes as inputs there, ReduceMax still as an attribute.
import onnxProto from 'onnx-proto';
import type { onnx as Onnx } from 'onnx-proto';

// A CommonJS module: its namespace is the default export under ESM.
const { onnx } = onnxProto;

export const OPSET = 17;
const IR_VERSION = 8; // what opset 17 goes with

type Attribute = number | number[] | string | { floats: number[] };

function attribute(name: string, value: Attribute): Onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof value === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) return { name, type: T.INTS, ints: value };
  if (typeof value === 'object') return { name, type: T.FLOATS, floats: value.floats };
  return Number.isInteger(value) ? { name, type: T.INT, i: value } : { name, type: T.FLOAT, f: value };
}

export class GraphBuilder {
  readonly nodes: Onnx.INodeProto[] = [];
  readonly initializers: Onnx.ITensorProto[] = [];
  #count = 0;

  /** A fresh value name starting with `hint`. */
  name(hint: string): string {
    return `${hint}_${this.#count++}`;
  }

  /** A float32 initializer (raw little-endian bytes). */
  floats(hint: string, dims: number[], data: Float32Array): string {
    const name = this.name(hint);
    const bytes = new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
    this.initializers.push({ name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: bytes });
    return name;
  }

  /** An int64 initializer. */
  int64s(hint: string, values: number[], dims: number[] = [values.length]): string {
    const name = this.name(hint);
    this.initializers.push({ name, dims, dataType: onnx.TensorProto.DataType.INT64, int64Data: values });
    return name;
  }

  /** A scalar float initializer. */
  scalar(hint: string, value: number): string {
    return this.floats(hint, [], Float32Array.of(value));
  }

  /** One node; returns its outputs' names ('' inputs are omitted optional ones). */
  node(op: string, inputs: string[], attributes: Record<string, Attribute> = {}, outputs = 1): string[] {
    const names = Array.from({ length: outputs }, () => this.name(op.toLowerCase()));
    this.nodes.push({
      opType: op,
      name: this.name(`${op}_node`),
      input: inputs,
      output: names,
      attribute: Object.entries(attributes).map(([k, v]) => attribute(k, v)),
    });
    return names;
  }

  /** The single output of a one-output node. */
  op(op: string, inputs: string[], attributes: Record<string, Attribute> = {}): string {
    return this.node(op, inputs, attributes)[0]!;
  }
}

export interface ValueSpec {
  name: string;
  type: 'float' | 'int64';
  /** Dimension sizes, or names for dynamic ones. */
  shape: (number | string)[];
}

function valueInfo(v: ValueSpec): Onnx.IValueInfoProto {
  const elemType = v.type === 'float' ? onnx.TensorProto.DataType.FLOAT : onnx.TensorProto.DataType.INT64;
  const dim = v.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
  return { name: v.name, type: { tensorType: { elemType, shape: { dim } } } };
}

/** The serialised model: the graph, its inputs and outputs, and string metadata. */
export function encodeModel(
  g: GraphBuilder,
  graphName: string,
  inputs: ValueSpec[],
  outputs: ValueSpec[],
  metadata: Record<string, string>,
  producerVersion: string,
): Uint8Array {
  const model: Onnx.IModelProto = {
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: OPSET }],
    producerName: 'ulmfit',
    producerVersion,
    graph: {
      name: graphName,
      node: g.nodes,
      initializer: g.initializers,
      input: inputs.map(valueInfo),
      output: outputs.map(valueInfo),
    },
    metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })),
  };
  return onnx.ModelProto.encode(model).finish();
}
