/**
 * A small seeded pseudo-random generator (xoshiro128**, seeded through splitmix32), so that every
 * random choice of a fit comes from one reproducible stream: the same seed gives bit-identical
 * results on every JavaScript engine.
 */

/** A seeded source of random numbers. */
export interface Random {
  /** Uniform on [0, 1) with 53 random bits. */
  nextFloat(): number;
  /** Uniform integer in [0, n). */
  nextInt(n: number): number;
  /** Standard normal deviate. */
  nextNormal(): number;
  /** Uniform 32-bit unsigned integer. */
  nextUint32(): number;
}

function splitmix32(state: number): () => number {
  let s = state >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/**
 * Creates a generator. Seeds are integers (non-integers are truncated); `stream` selects an
 * independent sequence for the same seed (used for restarts).
 */
export function createRandom(seed: number, stream = 0): Random {
  if (!Number.isFinite(seed)) throw new RangeError(`seed must be a finite number, got ${seed}`);
  const lo = Math.trunc(seed) >>> 0;
  const hi = Math.trunc(seed / 4294967296) >>> 0;
  const mix = splitmix32(lo ^ Math.imul(hi, 0x27d4eb2f) ^ Math.imul(stream + 1, 0x165667b1));
  let a = mix();
  let b = mix();
  let c = mix();
  let d = mix();
  if ((a | b | c | d) === 0) a = 1;
  let spareNormal: number | undefined;

  const nextUint32 = (): number => {
    const result = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
    const t = b << 9;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d, 11);
    return result;
  };
  const nextFloat = (): number => {
    const high = nextUint32() >>> 5; // 27 bits
    const low = nextUint32() >>> 6; // 26 bits
    return (high * 67108864 + low) / 9007199254740992;
  };
  return {
    nextUint32,
    nextFloat,
    nextInt(n: number): number {
      return Math.min(n - 1, Math.floor(nextFloat() * n));
    },
    nextNormal(): number {
      if (spareNormal !== undefined) {
        const value = spareNormal;
        spareNormal = undefined;
        return value;
      }
      // Marsaglia's polar method: no trigonometry, exact rejection.
      for (;;) {
        const u = 2 * nextFloat() - 1;
        const v = 2 * nextFloat() - 1;
        const s = u * u + v * v;
        if (s > 0 && s < 1) {
          const factor = Math.sqrt((-2 * Math.log(s)) / s);
          spareNormal = v * factor;
          return u * factor;
        }
      }
    },
  };
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
