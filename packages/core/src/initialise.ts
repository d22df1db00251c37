/**
 * Starting points for EM: seeded k-means++ (with or without Lloyd refinement), intensity
 * quantiles, random responsibilities, or given parameters. Initialisation runs on an "init set":
 * the weighted histogram of distinct values for integer single-feature data (so that voxels and
 * their histogram start identically), otherwise the samples themselves or a seeded weighted
 * subsample of them.
 */
import { allocateComponents, type Components, updatePrecisions } from './components.ts';
import { allocateStatistics, maximizationStep, resetStatistics } from './maximization-step.ts';
import type { Random } from './random.ts';
import type { CovarianceType, FloatArray, InitialParameters, InitMethod } from './types.ts';

/** Weighted samples that initialisation works on. */
export interface InitSet {
  data: FloatArray;
  weights: FloatArray | undefined;
  nSamples: number;
  nFeatures: number;
}

/**
 * A systematic weighted subsample of at most `size` samples: positions (j + u) / size along the
 * cumulative weight, u uniform from `random`. One pass, no N-sized temporary.
 */
export function subsample(
  data: FloatArray,
  weights: FloatArray | undefined,
  nSamples: number,
  nFeatures: number,
  sumWeights: number,
  size: number,
  random: Random,
): InitSet {
  const out = new Float64Array(size * nFeatures);
  const step = sumWeights / size;
  let next = random.nextFloat() * step;
  let cumulative = 0;
  let taken = 0;
  for (let i = 0; i < nSamples && taken < size; i++) {
    cumulative += weights ? weights[i]! : 1;
    while (cumulative > next && taken < size) {
      for (let d = 0; d < nFeatures; d++) out[taken * nFeatures + d] = data[i * nFeatures + d]!;
      taken++;
      next += step;
    }
  }
  return { data: out.subarray(0, taken * nFeatures), weights: undefined, nSamples: taken, nFeatures };
}

function squaredDistance(set: InitSet, i: number, centres: Float64Array, k: number): number {
  const D = set.nFeatures;
  let sum = 0;
  for (let d = 0; d < D; d++) {
    const v = set.data[i * D + d]! - centres[k * D + d]!;
    sum += v * v;
  }
  return sum;
}

/** Weighted draw of an index with probability proportional to `values[i]`. */
function drawProportional(values: Float64Array, total: number, random: Random): number {
  const target = random.nextFloat() * total;
  let cumulative = 0;
  for (let i = 0; i < values.length; i++) {
    cumulative += values[i]!;
    if (cumulative > target) return i;
  }
  // Round-off: the last index with positive mass.
  for (let i = values.length - 1; i >= 0; i--) if (values[i]! > 0) return i;
  return values.length - 1;
}

/**
 * Greedy k-means++ seeding (as scikit-learn: 2 + log K candidate draws per centre, keeping the
 * one that most reduces the potential). Returns K x D centres.
 */
export function kmeansPlusPlus(set: InitSet, nComponents: number, random: Random): Float64Array {
  const { nSamples: M, nFeatures: D } = set;
  const weightOf = (i: number) => (set.weights ? set.weights[i]! : 1);
  const centres = new Float64Array(nComponents * D);
  const weighted = new Float64Array(M);
  let total = 0;
  for (let i = 0; i < M; i++) {
    weighted[i] = weightOf(i);
    total += weighted[i]!;
  }
  const first = drawProportional(weighted, total, random);
  for (let d = 0; d < D; d++) centres[d] = set.data[first * D + d]!;
  const closest = new Float64Array(M);
  let potential = 0;
  for (let i = 0; i < M; i++) {
    closest[i] = squaredDistance(set, i, centres, 0) * weightOf(i);
    potential += closest[i]!;
  }
  const trials = 2 + Math.floor(Math.log(nComponents));
  const candidate = new Float64Array(D);
  const candidateCentre = new Float64Array(D);
  for (let k = 1; k < nComponents; k++) {
    let bestIndex = -1;
    let bestPotential = Infinity;
    for (let t = 0; t < trials; t++) {
      // All samples coincide with chosen centres: fall back to a weighted draw.
      const index =
        potential > 0
          ? drawProportional(closest, potential, random)
          : drawProportional(weighted, total, random);
      for (let d = 0; d < D; d++) candidate[d] = set.data[index * D + d]!;
      let trialPotential = 0;
      for (let i = 0; i < M; i++) {
        trialPotential += Math.min(closest[i]!, squaredDistance(set, i, candidate, 0) * weightOf(i));
      }
      if (trialPotential < bestPotential) {
        bestPotential = trialPotential;
        bestIndex = index;
      }
    }
    for (let d = 0; d < D; d++) {
      candidateCentre[d] = set.data[bestIndex * D + d]!;
      centres[k * D + d] = candidateCentre[d]!;
    }
    potential = 0;
    for (let i = 0; i < M; i++) {
      closest[i] = Math.min(closest[i]!, squaredDistance(set, i, candidateCentre, 0) * weightOf(i));
      potential += closest[i]!;
    }
  }
  return centres;
}

/** Index of the nearest centre for every sample (ties to the lower index). */
export function nearestCentres(
  set: InitSet,
  centres: Float64Array,
  nComponents: number,
  labels: Int32Array,
): boolean {
  let changed = false;
  for (let i = 0; i < set.nSamples; i++) {
    let best = 0;
    let bestDistance = Infinity;
    for (let k = 0; k < nComponents; k++) {
      const distance = squaredDistance(set, i, centres, k);
      if (distance < bestDistance) {
        bestDistance = distance;
        best = k;
      }
    }
    if (labels[i] !== best) {
      labels[i] = best;
      changed = true;
    }
  }
  return changed;
}

/** Lloyd's algorithm from the given centres (weighted); returns the final labels. */
export function lloyd(set: InitSet, centres: Float64Array, nComponents: number, maxIter: number): Int32Array {
  const { nSamples: M, nFeatures: D } = set;
  const labels = new Int32Array(M).fill(-1);
  nearestCentres(set, centres, nComponents, labels);
  const sums = new Float64Array(nComponents * D);
  const counts = new Float64Array(nComponents);
  for (let iteration = 0; iteration < maxIter; iteration++) {
    sums.fill(0);
    counts.fill(0);
    for (let i = 0; i < M; i++) {
      const w = set.weights ? set.weights[i]! : 1;
      const k = labels[i]!;
      counts[k]! += w;
      for (let d = 0; d < D; d++) sums[k * D + d]! += w * set.data[i * D + d]!;
    }
    for (let k = 0; k < nComponents; k++) {
      if (counts[k]! > 0) for (let d = 0; d < D; d++) centres[k * D + d] = sums[k * D + d]! / counts[k]!;
    }
    if (!nearestCentres(set, centres, nComponents, labels)) break;
  }
  return labels;
}

/** Weighted quantile split of a single feature into K contiguous groups. */
export function quantileLabels(set: InitSet, nComponents: number): Int32Array {
  const M = set.nSamples;
  const order = Array.from({ length: M }, (_, i) => i);
  order.sort((a, b) => set.data[a]! - set.data[b]! || a - b);
  let total = 0;
  for (let i = 0; i < M; i++) total += set.weights ? set.weights[i]! : 1;
  const labels = new Int32Array(M);
  let cumulative = 0;
  for (const i of order) {
    const w = set.weights ? set.weights[i]! : 1;
    const middle = cumulative + w / 2;
    labels[i] = Math.min(nComponents - 1, Math.floor((middle / total) * nComponents));
    cumulative += w;
  }
  return labels;
}

/** Weighted full covariance (plus regularisation) and mean of the init set. */
export function globalMoments(
  set: InitSet,
  regCovar: Float64Array,
): { mean: Float64Array; covariance: Float64Array } {
  const { nSamples: M, nFeatures: D } = set;
  const mean = new Float64Array(D);
  let total = 0;
  for (let i = 0; i < M; i++) {
    const w = set.weights ? set.weights[i]! : 1;
    total += w;
    for (let d = 0; d < D; d++) mean[d]! += w * set.data[i * D + d]!;
  }
  for (let d = 0; d < D; d++) mean[d] = mean[d]! / total;
  const covariance = new Float64Array(D * D);
  for (let i = 0; i < M; i++) {
    const w = set.weights ? set.weights[i]! : 1;
    for (let p = 0; p < D; p++) {
      const dp = set.data[i * D + p]! - mean[p]!;
      for (let q = p; q < D; q++) {
        covariance[p * D + q]! += (w * dp * (set.data[i * D + q]! - mean[q]!)) / total;
      }
    }
  }
  for (let p = 0; p < D; p++) for (let q = 0; q < p; q++) covariance[p * D + q] = covariance[q * D + p]!;
  for (let d = 0; d < D; d++) covariance[d * D + d]! += regCovar[d]!;
  return { mean, covariance };
}

/**
 * Components from responsibilities over the init set (hard labels or an M x K matrix). Components
 * that receive nothing start at the global mean and covariance.
 */
export function componentsFromResponsibilities(
  set: InitSet,
  responsibilities: { labels: Int32Array } | { matrix: FloatArray },
  nComponents: number,
  covarianceType: CovarianceType,
  regCovar: Float64Array,
): Components {
  const { nSamples: M, nFeatures: D } = set;
  const K = nComponents;
  const components = allocateComponents(covarianceType, K, D);
  const { mean, covariance } = globalMoments(set, regCovar);
  for (let k = 0; k < K; k++) {
    components.means.set(mean, k * D);
    components.covariances.set(covariance, k * D * D);
  }
  const statistics = allocateStatistics(K, D);
  resetStatistics(statistics, components.means);
  const { responsibilitySums: nk, firstMoments: s1, secondMoments: s2, centres: c } = statistics;
  for (let i = 0; i < M; i++) {
    const w = set.weights ? set.weights[i]! : 1;
    statistics.sumWeights += w;
    for (let k = 0; k < K; k++) {
      const r =
        'labels' in responsibilities
          ? responsibilities.labels[i] === k
            ? w
            : 0
          : w * responsibilities.matrix[i * K + k]!;
      if (r === 0) continue;
      nk[k]! += r;
      for (let p = 0; p < D; p++) {
        const dp = set.data[i * D + p]! - c[k * D + p]!;
        s1[k * D + p]! += r * dp;
        for (let q = 0; q < D; q++)
          s2[k * D * D + p * D + q]! += r * dp * (set.data[i * D + q]! - c[k * D + q]!);
      }
    }
  }
  maximizationStep(statistics, components, regCovar);
  updatePrecisions(components, () => jitterScale(regCovar));
  return components;
}

/** The first jitter tried on a covariance that is not positive definite. */
export function jitterScale(regCovar: Float64Array): number {
  return Math.max(1e-12, ...regCovar);
}

/** Initial components by the chosen method. */
export function initialComponents(
  set: InitSet,
  method: InitMethod,
  nComponents: number,
  covarianceType: CovarianceType,
  regCovar: Float64Array,
  kmeansMaxIter: number,
  random: Random,
): Components {
  switch (method) {
    case 'kmeans': {
      const centres = kmeansPlusPlus(set, nComponents, random);
      const labels = lloyd(set, centres, nComponents, kmeansMaxIter);
      return componentsFromResponsibilities(set, { labels }, nComponents, covarianceType, regCovar);
    }
    case 'kmeans++': {
      const centres = kmeansPlusPlus(set, nComponents, random);
      const labels = new Int32Array(set.nSamples).fill(-1);
      nearestCentres(set, centres, nComponents, labels);
      return componentsFromResponsibilities(set, { labels }, nComponents, covarianceType, regCovar);
    }
    case 'quantile':
      return componentsFromResponsibilities(
        set,
        { labels: quantileLabels(set, nComponents) },
        nComponents,
        covarianceType,
        regCovar,
      );
    case 'random': {
      const matrix = new Float64Array(set.nSamples * nComponents);
      for (let i = 0; i < set.nSamples; i++) {
        let sum = 0;
        for (let k = 0; k < nComponents; k++) {
          const value = random.nextFloat();
          matrix[i * nComponents + k] = value;
          sum += value;
        }
        for (let k = 0; k < nComponents; k++)
          matrix[i * nComponents + k] = matrix[i * nComponents + k]! / sum;
      }
      return componentsFromResponsibilities(set, { matrix }, nComponents, covarianceType, regCovar);
    }
    default:
      throw new TypeError(`unknown init method ${method satisfies never}`);
  }
}

/** Components from a warm start; missing covariances default to the data's (diagonal) variance. */
export function componentsFromParameters(
  parameters: InitialParameters,
  nComponents: number,
  nFeatures: number,
  covarianceType: CovarianceType,
  dataVariances: Float64Array,
  regCovar: Float64Array,
): Components {
  const K = nComponents;
  const D = nFeatures;
  const components = allocateComponents(covarianceType, K, D);
  const weights = parameters.weights ?? new Array<number>(K).fill(1);
  const weightSum = weights.reduce((a, b) => a + b, 0);
  for (let k = 0; k < K; k++) {
    components.weights[k] = weights[k]! / weightSum;
    for (let d = 0; d < D; d++) components.means[k * D + d] = parameters.means[k]![d]!;
    const given = parameters.covariances?.[k];
    for (let i = 0; i < D; i++) {
      for (let j = 0; j < D; j++) {
        let value: number;
        if (given === undefined) value = i === j ? dataVariances[i]! + regCovar[i]! : 0;
        else if (typeof given === 'number') value = i === j ? given : 0;
        else value = given[i]![j]!;
        components.covariances[k * D * D + i * D + j] = value;
      }
    }
  }
  updatePrecisions(components, () => {
    throw new RangeError('initialParameters.covariances must be positive definite');
  });
  return components;
}
