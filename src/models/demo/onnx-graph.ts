import {
  encodeOnnxModel,
  floatBytes,
  int64Bytes,
  OnnxType,
  type OnnxAttribute,
  type OnnxElemType,
  type OnnxNode,
  type OnnxTensor,
  type OnnxValueInfo,
} from './onnx-writer.js';

/**
 * Builds an ONNX graph op by op. Every value gets a readable unique name (`prefix/op_N`), constants become
 * initializers, and the helpers cover the handful of ops the demo transformers use (all in the default domain,
 * opset 17).
 */
export class GraphBuilder {
  private readonly nodes: OnnxNode[] = [];
  private readonly initializers: OnnxTensor[] = [];
  private readonly inputs: OnnxValueInfo[] = [];
  private readonly outputs: OnnxValueInfo[] = [];
  private counter = 0;
  /** Name prefix for new values (set per block so graphs read like `blk.0/MatMul_12`). */
  scope = '';

  /** Declares a graph input and returns its name. */
  input(name: string, type: OnnxElemType, shape: Array<number | string>): string {
    this.inputs.push({ name, type, shape });
    return name;
  }

  /** Exposes `value` as graph output `name` (through an Identity when the names differ). */
  output(value: string, name: string, type: OnnxElemType, shape: Array<number | string>): void {
    if (value !== name)
      this.nodes.push({ op: 'Identity', inputs: [value], outputs: [name], name: `${name}/Identity`, attributes: {} });
    this.outputs.push({ name, type, shape });
  }

  /** A float32 initializer with an explicit name (a weight). */
  weight(name: string, values: Float32Array, dims: number[]): string {
    if (values.length !== dims.reduce((a, b) => a * b, 1))
      throw new Error(`weight ${name}: ${values.length} values for ${dims}`);
    this.initializers.push({ name, type: OnnxType.FLOAT, dims, raw: floatBytes(values) });
    return name;
  }

  /** An int64 constant (shapes, axes, indices). */
  ints(values: readonly number[], dims: number[] = [values.length]): string {
    const name = this.fresh('const_i64');
    this.initializers.push({ name, type: OnnxType.INT64, dims, raw: int64Bytes(values) });
    return name;
  }

  /** A float32 constant (scalars such as epsilons and scales). */
  floats(values: readonly number[], dims: number[] = [values.length]): string {
    const name = this.fresh('const_f32');
    this.initializers.push({ name, type: OnnxType.FLOAT, dims, raw: floatBytes(values) });
    return name;
  }

  /** Appends a node and returns its output names (`outputCount` of them). */
  op(op: string, inputs: string[], attributes: Record<string, OnnxAttribute> = {}, outputCount = 1): string[] {
    const name = this.fresh(op);
    const outputs = Array.from({ length: outputCount }, (_, i) => (outputCount === 1 ? name : `${name}:${i}`));
    this.nodes.push({ op, inputs, outputs, name, attributes });
    return outputs;
  }

  /** A single-output node. */
  op1(op: string, inputs: string[], attributes: Record<string, OnnxAttribute> = {}): string {
    return this.op(op, inputs, attributes)[0] as string;
  }

  /** `x @ weight` where `weight` is a PyTorch `[out, in]` matrix, stored transposed as `[in, out]`. */
  linear(x: string, name: string, weight: Float32Array, out: number, inp: number): string {
    const transposed = new Float32Array(weight.length);
    for (let o = 0; o < out; o++) for (let i = 0; i < inp; i++) transposed[i * out + o] = weight[o * inp + i] ?? 0;
    return this.op1('MatMul', [x, this.weight(name, transposed, [inp, out])]);
  }

  /** Reshape to a constant target shape (0 copies the input dimension, -1 infers it). */
  reshape(x: string, shape: number[]): string {
    return this.op1('Reshape', [x, this.ints(shape)]);
  }

  /** RMSNorm over the last axis: `x / sqrt(mean(x²) + eps) * (offset + weight)`. */
  rmsNorm(x: string, name: string, weight: Float32Array, eps: number, offset = 0): string {
    const meanSquare = this.op1('ReduceMean', [this.op1('Mul', [x, x])], { axes: [-1], keepdims: 1 });
    const inv = this.op1('Reciprocal', [this.op1('Sqrt', [this.op1('Add', [meanSquare, this.floats([eps], [])])])]);
    const scale = offset === 0 ? weight : weight.map((w) => Math.fround(w + offset));
    return this.op1('Mul', [this.op1('Mul', [x, inv]), this.weight(name, scale, [weight.length])]);
  }

  /**
   * Rotary embedding in Hugging Face's rotate-half layout on `x` [..., dim]: with halves x1, x2 of the last axis,
   * returns [x1·cos − x2·sin, x2·cos + x1·sin]. `cos`/`sin` broadcast against [..., dim/2].
   */
  rotateHalf(x: string, cos: string, sin: string, dim: number): string {
    const axis = this.ints([-1]);
    const x1 = this.op1('Slice', [x, this.ints([0]), this.ints([dim / 2]), axis]);
    const x2 = this.op1('Slice', [x, this.ints([dim / 2]), this.ints([dim]), axis]);
    const first = this.op1('Sub', [this.op1('Mul', [x1, cos]), this.op1('Mul', [x2, sin])]);
    const second = this.op1('Add', [this.op1('Mul', [x2, cos]), this.op1('Mul', [x1, sin])]);
    return this.op1('Concat', [first, second], { axis: -1 });
  }

  /** tanh-approximated GELU, 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))); opset 17 has no Gelu op. */
  gelu(x: string): string {
    const cube = this.op1('Mul', [this.op1('Mul', [x, x]), x]);
    const inner = this.op1('Add', [x, this.op1('Mul', [cube, this.floats([0.044715], [])])]);
    const tanh = this.op1('Tanh', [this.op1('Mul', [inner, this.floats([Math.sqrt(2 / Math.PI)], [])])]);
    return this.op1('Mul', [
      this.op1('Mul', [x, this.op1('Add', [tanh, this.floats([1], [])])]),
      this.floats([0.5], []),
    ]);
  }

  /** Serialises the graph built so far. */
  encode(graphName: string, docString: string): Uint8Array {
    return encodeOnnxModel({
      graphName,
      docString,
      nodes: this.nodes,
      initializers: this.initializers,
      inputs: this.inputs,
      outputs: this.outputs,
    });
  }

  private fresh(kind: string): string {
    this.counter++;
    return this.scope ? `${this.scope}/${kind}_${this.counter}` : `${kind}_${this.counter}`;
  }
}
