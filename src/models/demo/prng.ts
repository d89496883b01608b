/**
 * Seeded pseudo-random numbers for the demo model generators.
 *
 * Weights must be byte-identical for the same seed on every machine, so only integer arithmetic and exact float
 * scaling are used here: no Math.random, and no transcendental functions (whose last bits may differ between
 * platforms) on the path from seed to weight.
 */

/** A deterministic generator of 32-bit integers and floats (SplitMix32-style mixing of a Weyl sequence). */
export class Prng {
  private state: number;

  /** @param seed any integer; equal seeds give equal sequences. */
  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Next unsigned 32-bit integer. */
  nextUint32(): number {
    this.state = (this.state + 0x9e3779b9) >>> 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  }

  /** Uniform float in [-scale, scale), exact for a given state (the 24-bit integer is scaled by powers of two). */
  uniform(scale: number): number {
    const unit = (this.nextUint32() >>> 8) / 0x800000 - 1;
    return Math.fround(unit * scale);
  }

  /** A fresh Float32Array of `count` values uniform in [-scale, scale). */
  floats(count: number, scale: number): Float32Array {
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = this.uniform(scale);
    return out;
  }

  /** A child generator whose sequence depends only on this seed and `label`, so adding a tensor never shifts others. */
  fork(label: string): Prng {
    let h = this.state ^ 0x811c9dc5;
    for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193) >>> 0;
    return new Prng(h);
  }
}

/** Values `center ± scale` (e.g. norm weights near 1), from a forked generator. */
export function nearConstant(prng: Prng, count: number, center: number, scale: number): Float32Array {
  const out = prng.floats(count, scale);
  for (let i = 0; i < count; i++) out[i] = Math.fround(center + (out[i] ?? 0));
  return out;
}
