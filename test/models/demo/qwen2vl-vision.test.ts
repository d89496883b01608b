import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { GraphBuilder } from '../../../src/models/demo/onnx-graph.js';
import { OnnxType } from '../../../src/models/demo/onnx-writer.js';
import { patchLayout } from '../../../src/models/demo/qwen2vl-vision.js';

/** The processor's patch order for one image: (t, h/2, w/2, 2, 2), written out as plain loops. */
function expectedLayout(grids: Array<[number, number, number]>): {
  imageOf: number[];
  row: number[];
  column: number[];
} {
  const out = { imageOf: [] as number[], row: [] as number[], column: [] as number[] };
  grids.forEach(([t, h, w], image) => {
    for (let f = 0; f < t; f++)
      for (let hb = 0; hb < h / 2; hb++)
        for (let wb = 0; wb < w / 2; wb++)
          for (let mh = 0; mh < 2; mh++)
            for (let mw = 0; mw < 2; mw++) {
              out.imageOf.push(image);
              out.row.push(hb * 2 + mh);
              out.column.push(wb * 2 + mw);
            }
  });
  return out;
}

describe('Qwen2-VL patch layout', () => {
  it('recovers each flat patch’s image, row and column from grid_thw', async () => {
    const g = new GraphBuilder();
    const pixels = g.input('pixel_values', OnnxType.FLOAT, ['num_patches', 1]);
    const grid = g.input('grid_thw', OnnxType.INT64, ['num_images', 3]);
    const layout = patchLayout(g, pixels, grid, 2);
    g.output(layout.imageOf, 'image_of', OnnxType.INT64, ['num_patches']);
    g.output(layout.row, 'row', OnnxType.INT64, ['num_patches']);
    g.output(layout.column, 'column', OnnxType.INT64, ['num_patches']);
    const grids: Array<[number, number, number]> = [
      [1, 4, 6],
      [1, 2, 2],
      [1, 6, 4],
    ];
    const expected = expectedLayout(grids);
    const session = await InferenceSession.create(g.encode('layout', 'test'));
    try {
      const out = await session.run({
        pixel_values: new Tensor('float32', new Float32Array(expected.row.length), [expected.row.length, 1]),
        grid_thw: new Tensor('int64', BigInt64Array.from(grids.flat().map(BigInt)), [grids.length, 3]),
      });
      const list = (name: string): number[] => Array.from((out[name] as Tensor).data as BigInt64Array, Number);
      assert.deepEqual(list('image_of'), expected.imageOf);
      assert.deepEqual(list('row'), expected.row);
      assert.deepEqual(list('column'), expected.column);
    } finally {
      await session.release();
    }
  });
});
