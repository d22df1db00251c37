/**
 * The partial-volume mixture of one feature (docs/algorithms.md, section 5, "The partial-volume
 * mixture", `#partial-volume`): K pure classes and,
 * between given pairs of classes, "mixel" classes of voxels that hold a fraction t of one class and
 * 1 - t of the other. The model is plain serialisable data; this module also holds its
 * sub-components (the pure classes and the discretised mixel fractions) and their densities.
 */

/** A fitted partial-volume mixture (plain data). */
export interface PartialVolumeMixture {
  nClasses: number;
  /** Mean of each pure class, length K. */
  means: number[];
  /** Variance of each pure class, length K (regularisation included). */
  variances: number[];
  /** Mixing weight of each pure class, length K. */
  weights: number[];
  /** The mixed pairs [a, b] (class indices): voxels holding t of a and 1 - t of b, t in [0, 1]. */
  pairs: [number, number][];
  /** Mixing weight of each pair's mixel class (t uniform on [0, 1]), length P. */
  pairWeights: number[];
  /** Midpoints t = (j + 1/2) / nSteps at which the fraction is discretised. */
  nSteps: number;
  /**
   * A uniform outlier class over [low, high] with this weight, or null. Weights, pair weights and
   * the outlier weight sum to 1.
   */
  outlier: { weight: number; low: number; high: number } | null;
}

/** One Gaussian of the discretised model: a pure class, or one fraction step of a mixel class. */
export interface SubComponent {
  /** The class holding the majority of the voxel: pure k is k; a step with t >= 1/2 is a, else b. */
  majority: number;
  /** -1 for a pure class, else the pair index. */
  pair: number;
  /** Fraction of each class in the voxel (length K). */
  fractions: Float64Array;
  weight: number;
  mean: number;
  variance: number;
}

/**
 * The sub-components of a model: the K pure classes first, then nSteps steps per pair. A step at
 * fraction t of pair (a, b) is N(t mu_a + (1 - t) mu_b, t s_a^2 + (1 - t) s_b^2): the mixed
 * signal's mean and the noise variance interpolated between the two classes.
 */
export function subComponents(model: PartialVolumeMixture): SubComponent[] {
  const K = model.nClasses;
  const out: SubComponent[] = [];
  for (let k = 0; k < K; k++) {
    const fractions = new Float64Array(K);
    fractions[k] = 1;
    out.push({
      majority: k,
      pair: -1,
      fractions,
      weight: model.weights[k]!,
      mean: model.means[k]!,
      variance: model.variances[k]!,
    });
  }
  model.pairs.forEach(([a, b], p) => {
    for (let j = 0; j < model.nSteps; j++) {
      const t = (j + 0.5) / model.nSteps;
      const fractions = new Float64Array(K);
      fractions[a] = t;
      fractions[b]! += 1 - t;
      out.push({
        majority: t >= 0.5 ? a : b,
        pair: p,
        fractions,
        weight: model.pairWeights[p]! / model.nSteps,
        mean: t * model.means[a]! + (1 - t) * model.means[b]!,
        variance: t * model.variances[a]! + (1 - t) * model.variances[b]!,
      });
    }
  });
  return out;
}

/** Updates the sub-components' means, variances and weights from the model (same layout). */
export function refreshSubComponents(model: PartialVolumeMixture, subs: SubComponent[]): void {
  const K = model.nClasses;
  for (let k = 0; k < K; k++) {
    const s = subs[k]!;
    s.weight = model.weights[k]!;
    s.mean = model.means[k]!;
    s.variance = model.variances[k]!;
  }
  let c = K;
  model.pairs.forEach(([a, b], p) => {
    for (let j = 0; j < model.nSteps; j++, c++) {
      const t = (j + 0.5) / model.nSteps;
      const s = subs[c]!;
      s.weight = model.pairWeights[p]! / model.nSteps;
      s.mean = t * model.means[a]! + (1 - t) * model.means[b]!;
      s.variance = t * model.variances[a]! + (1 - t) * model.variances[b]!;
    }
  });
}

/** The total weight of the sub-components whose majority is each class (W_k), length K. */
export function majorityWeights(model: PartialVolumeMixture, subs: SubComponent[]): Float64Array {
  const totals = new Float64Array(model.nClasses);
  for (const s of subs) totals[s.majority]! += s.weight;
  return totals;
}

/** Adjacent pairs of classes in the order of their means: (0th, 1st), (1st, 2nd)... */
export function adjacentPairs(means: number[]): [number, number][] {
  const order = means.map((_, k) => k).sort((a, b) => means[a]! - means[b]! || a - b);
  const pairs: [number, number][] = [];
  for (let j = 0; j + 1 < order.length; j++) {
    const a = order[j]!;
    const b = order[j + 1]!;
    pairs.push(a < b ? [a, b] : [b, a]);
  }
  return pairs;
}

/**
 * Checks that `model` is a {@link PartialVolumeMixture}: shapes, finite means, positive variances,
 * weights in [0, 1] summing to 1, pairs of distinct classes.
 * @throws TypeError saying what is wrong
 */
export function validatePartialVolumeMixture(model: unknown): asserts model is PartialVolumeMixture {
  const fail = (what: string): never => {
    throw new TypeError(`not a valid partial-volume mixture: ${what}`);
  };
  if (model === null || typeof model !== 'object') fail(`expected an object, got ${String(model)}`);
  const m = model as Partial<PartialVolumeMixture>;
  const K = m.nClasses;
  if (!Number.isInteger(K) || K! < 1) fail(`nClasses must be a positive integer, got ${K}`);
  const numbers = (name: string, value: unknown, length: number, check: (v: number) => boolean) => {
    if (
      !Array.isArray(value) ||
      value.length !== length ||
      !value.every((v) => typeof v === 'number' && check(v))
    ) {
      fail(`${name} must be ${length} numbers of the right range`);
    }
  };
  numbers('means', m.means, K!, Number.isFinite);
  numbers('variances', m.variances, K!, (v) => v > 0 && Number.isFinite(v));
  numbers('weights', m.weights, K!, (v) => v >= 0 && v <= 1);
  if (!Array.isArray(m.pairs)) fail('pairs must be an array');
  for (const pair of m.pairs!) {
    if (
      !Array.isArray(pair) ||
      pair.length !== 2 ||
      !pair.every((k) => Number.isInteger(k) && k >= 0 && k < K!) ||
      pair[0] === pair[1]
    ) {
      fail(`pairs must hold [a, b] of two distinct class indices below ${K}, got ${JSON.stringify(pair)}`);
    }
  }
  numbers('pairWeights', m.pairWeights, m.pairs!.length, (v) => v >= 0 && v <= 1);
  if (!Number.isInteger(m.nSteps) || m.nSteps! < 1)
    fail(`nSteps must be a positive integer, got ${m.nSteps}`);
  const outlier = m.outlier;
  let outlierWeight = 0;
  if (outlier !== null) {
    if (
      outlier === undefined ||
      typeof outlier !== 'object' ||
      !(outlier.weight >= 0 && outlier.weight < 1) ||
      !Number.isFinite(outlier.low) ||
      !(outlier.high > outlier.low) ||
      !Number.isFinite(outlier.high)
    ) {
      fail('outlier must be null or { weight in [0, 1), low < high }');
    }
    outlierWeight = (outlier as { weight: number }).weight;
  }
  const sum =
    m.weights!.reduce((a, b) => a + b, 0) + m.pairWeights!.reduce((a, b) => a + b, 0) + outlierWeight;
  if (Math.abs(sum - 1) > 1e-9)
    fail(`weights, pair weights and the outlier weight must sum to 1, got ${sum}`);
}
