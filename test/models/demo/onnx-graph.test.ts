import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { GraphBuilder } from '../../../src/models/demo/onnx-graph.js';
import { OnnxType } from '../../../src/models/demo/onnx-writer.js';
import { Prng } from '../../../src/models/demo/prng.js';

/** Runs a one-input, one-output model on onnxruntime and returns the output. */
async function run(model: Uint8Array, x: Float32Array, dims: number[]): Promise<Tensor> {
  const session = await InferenceSession.create(model);
  try {
    const out = await session.run({ x: new Tensor('float32', x, dims) });
    return out.y as Tensor;
  } finally {
    await session.release();
  }
}

describe('ONNX writer and graph builder', () => {
  it('encodes a model onnxruntime accepts, with symbolic and fixed dimensions', async () => {
    const g = new GraphBuilder();
    const x = g.input('x', OnnxType.FLOAT, ['batch', 3]);
    g.output(g.op1('Add', [x, g.floats([1, 2, 3])]), 'y', OnnxType.FLOAT, ['batch', 3]);
    const session = await InferenceSession.create(g.encode('t', 'test'));
    assert.deepEqual([session.inputNames, session.outputNames], [['x'], ['y']]);
    const out = await session.run({ x: new Tensor('float32', new Float32Array([0, 0, 0, 1, 1, 1]), [2, 3]) });
    assert.deepEqual(Array.from((out.y as Tensor).data as Float32Array), [1, 2, 3, 2, 3, 4]);
    await session.release();
  });

  it('computes RMSNorm, a linear layer (PyTorch [out, in] weight) and tanh-GELU like plain JavaScript', async () => {
    const prng = new Prng(3);
    const [inDim, outDim, rows] = [4, 3, 2];
    const x = prng.floats(rows * inDim, 2);
    const norm = prng.floats(inDim, 1);
    const weight = prng.floats(outDim * inDim, 1);
    const g = new GraphBuilder();
    const input = g.input('x', OnnxType.FLOAT, [rows, inDim]);
    const y = g.gelu(g.linear(g.rmsNorm(input, 'norm', norm, 1e-5, 1), 'w', weight, outDim, inDim));
    g.output(y, 'y', OnnxType.FLOAT, [rows, outDim]);
    const got = (await run(g.encode('t', 'test'), x, [rows, inDim])).data as Float32Array;
    for (let r = 0; r < rows; r++) {
      const row = Array.from(x.subarray(r * inDim, (r + 1) * inDim));
      const inv = 1 / Math.sqrt(row.reduce((a, v) => a + v * v, 0) / inDim + 1e-5);
      const h = row.map((v, i) => v * inv * (1 + (norm[i] ?? 0)));
      for (let o = 0; o < outDim; o++) {
        const z = h.reduce((a, v, i) => a + v * (weight[o * inDim + i] ?? 0), 0);
        const expected = 0.5 * z * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (z + 0.044715 * z ** 3)));
        assert.ok(Math.abs(expected - (got[r * outDim + o] ?? NaN)) < 1e-5, `row ${r} out ${o}`);
      }
    }
  });

  it('writes the same bytes for the same graph', () => {
    const build = (): Uint8Array => {
      const g = new GraphBuilder();
      const x = g.input('x', OnnxType.FLOAT, [2]);
      g.output(
        g.op1('Softmax', [g.op1('Mul', [x, g.weight('w', new Prng(9).floats(2, 1), [2])])], { axis: -1 }),
        'y',
        OnnxType.FLOAT,
        [2],
      );
      return g.encode('t', 'same');
    };
    assert.deepEqual(build(), build());
  });
});
