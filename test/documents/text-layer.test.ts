/** The text layer's reading order: lines top to bottom, runs left to right, whatever order the producer drew them in. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readingOrder, type TextRun } from '../../src/documents/index.js';

const run = (str: string, x: number, y: number, width = str.length * 5, size = 10): TextRun => ({
  str,
  transform: [size, 0, 0, size, x, y],
  width,
  height: size,
});

describe('readingOrder', () => {
  it('sorts runs drawn out of order into lines, top to bottom', () => {
    const runs = [run('Total: 9.50', 20, 100), run('Invoice 42', 20, 180), run('Bill to: Ada', 20, 150)];
    assert.equal(readingOrder(runs), 'Invoice 42\nBill to: Ada\nTotal: 9.50');
  });

  it('joins runs of one line left to right with a space only across a gap', () => {
    const runs = [run('EUR', 120, 100), run('Amount', 20, 101), run('9.', 60, 100, 10), run('50', 70, 100)];
    assert.equal(readingOrder(runs), 'Amount 9.50 EUR');
  });

  it('drops blank runs; a page with no text gives an empty string', () => {
    assert.equal(readingOrder([run('  ', 0, 0), run('', 5, 5)]), '');
    assert.equal(readingOrder([]), '');
  });
});
