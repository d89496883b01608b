/**
 * `StepGate`: concurrent generations queue their decode steps together, so node-llama-cpp batches all of them.
 * Driven with hand-resolved promises standing for native decode + sampling.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { setImmediate as turn } from 'node:timers/promises';
import { StepGate } from '../../src/engines/gguf/step-gate.js';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => undefined;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** Settles pending microtasks (promise chains of any depth used here), without an event-loop turn. */
async function microtasks(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

it('a lone generation never waits', async () => {
  const gate = new StepGate();
  const leave = gate.join();
  assert.equal(gate.ready(), undefined);
  await gate.step(Promise.resolve());
  assert.equal(gate.ready(), undefined);
  leave();
});

it('generations whose steps landed early wait for the last one, then all go at once', async () => {
  const gate = new StepGate();
  const leaves = [gate.join(), gate.join(), gate.join()];
  const steps = [deferred(), deferred(), deferred()];
  const landed = steps.map((s) => gate.step(s.promise));
  const released: number[] = [];
  steps[0]!.resolve();
  await landed[0];
  void gate.ready()?.then(() => released.push(0));
  steps[1]!.resolve();
  await landed[1];
  void gate.ready()?.then(() => released.push(1));
  await microtasks();
  assert.deepEqual(released, [], 'nobody goes while a sibling step is in flight');
  steps[2]!.resolve();
  await landed[2];
  await microtasks();
  assert.deepEqual(released, [], 'the gate holds the others until the last one (on its way back) arrives');
  // The last one arrives and finds everyone else waiting: the gate opens for all, it included, at once.
  assert.equal(gate.ready(), undefined);
  await microtasks();
  assert.deepEqual(released.sort(), [0, 1]);
  leaves.forEach((leave) => leave());
});

it('opens after one event-loop turn when a generation does not come back (slow consumer)', async () => {
  const gate = new StepGate();
  gate.join();
  gate.join();
  const a = deferred();
  const b = deferred();
  const stepA = gate.step(a.promise);
  const stepB = gate.step(b.promise);
  a.resolve();
  await stepA;
  let released = false;
  void gate.ready()?.then(() => (released = true));
  b.resolve();
  await stepB;
  await microtasks();
  assert.equal(released, false);
  await turn();
  assert.equal(released, true);
});

it('opens when the generation it waits for ends instead', async () => {
  const gate = new StepGate();
  gate.join();
  const leaveB = gate.join();
  const b = deferred();
  const stepB = gate.step(b.promise);
  let released = false;
  void gate.ready()?.then(() => (released = true));
  b.resolve();
  await stepB;
  leaveB();
  await microtasks();
  assert.equal(released, true);
});
