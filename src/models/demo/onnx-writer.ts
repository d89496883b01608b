import protobuf from 'protobufjs';

/**
 * ONNX serialisation: the subset of `onnx.proto` (ONNX IR) messages a model file needs, declared with their official
 * field numbers and encoded with protobufjs. protobufjs writes fields in declaration order, so equal inputs give
 * byte-identical files.
 */

// Field numbers follow onnx/onnx.proto; messages and fields the demo models never use are left out.
const onnxProto = `
syntax = "proto2";
package onnx;
message AttributeProto {
  enum AttributeType { UNDEFINED = 0; FLOAT = 1; INT = 2; STRING = 3; TENSOR = 4; GRAPH = 5; FLOATS = 6; INTS = 7; STRINGS = 8; }
  optional string name = 1;
  optional float f = 2;
  optional int64 i = 3;
  repeated int64 ints = 8;
  optional AttributeType type = 20;
}
message ValueInfoProto { optional string name = 1; optional TypeProto type = 2; }
message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  optional string name = 3;
  optional string op_type = 4;
  repeated AttributeProto attribute = 5;
  optional string domain = 7;
}
message StringStringEntryProto { optional string key = 1; optional string value = 2; }
message GraphProto {
  repeated NodeProto node = 1;
  optional string name = 2;
  repeated TensorProto initializer = 5;
  optional string doc_string = 10;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
}
message TensorProto {
  repeated int64 dims = 1;
  optional int32 data_type = 2;
  optional string name = 8;
  optional bytes raw_data = 9;
}
message TensorShapeProto {
  message Dimension { oneof value { int64 dim_value = 1; string dim_param = 2; } }
  repeated Dimension dim = 1;
}
message TypeProto {
  message Tensor { optional int32 elem_type = 1; optional TensorShapeProto shape = 2; }
  oneof value { Tensor tensor_type = 1; }
}
message OperatorSetIdProto { optional string domain = 1; optional int64 version = 2; }
message ModelProto {
  optional int64 ir_version = 1;
  optional string producer_name = 2;
  optional string producer_version = 3;
  optional string doc_string = 6;
  optional GraphProto graph = 7;
  repeated OperatorSetIdProto opset_import = 8;
  repeated StringStringEntryProto metadata_props = 14;
}
`;

const ModelProto = protobuf.parse(onnxProto, { keepCase: true }).root.lookupType('onnx.ModelProto');

/** ONNX tensor element types (TensorProto.DataType) used by the demo graphs. */
export const OnnxType = { FLOAT: 1, INT32: 6, INT64: 7, BOOL: 9 } as const;
/** One of {@link OnnxType}. */
export type OnnxElemType = (typeof OnnxType)[keyof typeof OnnxType];

/** A constant tensor (an initializer); `raw` is little-endian element data. */
export interface OnnxTensor {
  name: string;
  type: OnnxElemType;
  dims: number[];
  raw: Uint8Array;
}

/** A graph input or output: element type and shape, where a string is a symbolic dimension (`batch_size`). */
export interface OnnxValueInfo {
  name: string;
  type: OnnxElemType;
  shape: Array<number | string>;
}

/** A node attribute value: a whole number is INT, `{ float }` FLOAT, a number array INTS. */
export type OnnxAttribute = number | { float: number } | number[];

/** One operator application. */
export interface OnnxNode {
  op: string;
  inputs: string[];
  outputs: string[];
  name: string;
  attributes: Record<string, OnnxAttribute>;
}

/** A complete model: one graph plus the opset and IR version it targets. */
export interface OnnxModel {
  graphName: string;
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  /** Default-domain opset; default 17. */
  opset?: number;
  /** IR version; default 8 (what opset 17 pairs with). */
  irVersion?: number;
  docString?: string;
}

function tensorMessage(t: OnnxTensor): Record<string, unknown> {
  return { dims: t.dims, data_type: t.type, name: t.name, raw_data: t.raw };
}

function attributeMessage(name: string, value: OnnxAttribute): Record<string, unknown> {
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new Error(`attribute ${name}: use { float } for non-integers`);
    return { name, type: 2, i: value };
  }
  if (Array.isArray(value)) return { name, type: 7, ints: value };
  return { name, type: 1, f: value.float };
}

function valueInfoMessage(v: OnnxValueInfo): Record<string, unknown> {
  const dim = v.shape.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d }));
  return { name: v.name, type: { tensor_type: { elem_type: v.type, shape: { dim } } } };
}

/** Encodes a model as the bytes of a `.onnx` file. */
export function encodeOnnxModel(model: OnnxModel): Uint8Array {
  const message = {
    ir_version: model.irVersion ?? 8,
    producer_name: 'atelier',
    producer_version: '1',
    doc_string: model.docString ?? '',
    graph: {
      node: model.nodes.map((n) => ({
        input: n.inputs,
        output: n.outputs,
        name: n.name,
        op_type: n.op,
        attribute: Object.entries(n.attributes).map(([k, v]) => attributeMessage(k, v)),
        domain: '',
      })),
      name: model.graphName,
      initializer: model.initializers.map(tensorMessage),
      input: model.inputs.map(valueInfoMessage),
      output: model.outputs.map(valueInfoMessage),
    },
    opset_import: [{ domain: '', version: model.opset ?? 17 }],
  };
  const error = ModelProto.verify(message);
  if (error) throw new Error(`invalid ONNX model message: ${error}`);
  return ModelProto.encode(ModelProto.fromObject(message)).finish();
}

/** Little-endian bytes of float32 values. */
export function floatBytes(values: Float32Array | readonly number[]): Uint8Array {
  const out = Buffer.alloc(values.length * 4);
  for (let i = 0; i < values.length; i++) out.writeFloatLE(values[i] ?? 0, i * 4);
  return out;
}

/** Little-endian bytes of int64 values. */
export function int64Bytes(values: readonly number[]): Uint8Array {
  const out = Buffer.alloc(values.length * 8);
  values.forEach((v, i) => out.writeBigInt64LE(BigInt(v), i * 8));
  return out;
}
