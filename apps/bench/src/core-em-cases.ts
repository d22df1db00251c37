/**
 * What the EM core benchmark measures: the sample sizes of the sweep, the two datasets (their true
 * mixtures and the warm start both sides get, per covariance type), the core's paths per case, and
 * the float32 data files the children read.
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import type * as Core from '@mixseg/core';
import type { CovarianceType, EStepStrategy, GaussianMixture } from '@mixseg/core';
import type { CorePath, DataInfo, DatasetId, SizePlan, WarmStart } from './core-em-types.ts';

/** One way the core visits the data, as a worker child runs it. */
export interface ContestantSpec {
  name: CorePath;
  strategy: Exclude<EStepStrategy, 'auto'>;
  withPrior: boolean;
}

interface DatasetSpec {
  id: DatasetId;
  nFeatures: number;
  warmStart: WarmStart;
}

/** Every covariance type, in the order of the tables. */
export const COVARIANCE_TYPES: readonly CovarianceType[] = ['full', 'tied', 'diag', 'spherical'];

/**
 * The sweep. Each N costs about N x (17 core + 8 sklearn children); 10^7 gets fewer repetitions
 * and iterations so that the full sweep stays near 10 minutes on 2 cores.
 */
export const PLANS: { quick: SizePlan[]; full: SizePlan[] } = {
  quick: [
    { nSamples: 1e5, maxIter: 5, repetitions: 1, sklearnLoopReps: 3, sklearnFitRepetitions: 1 },
    { nSamples: 3e5, maxIter: 5, repetitions: 1, sklearnLoopReps: 3, sklearnFitRepetitions: 0 },
  ],
  full: [
    { nSamples: 1e5, maxIter: 10, repetitions: 3, sklearnLoopReps: 5, sklearnFitRepetitions: 1 },
    { nSamples: 3e5, maxIter: 10, repetitions: 3, sklearnLoopReps: 5, sklearnFitRepetitions: 1 },
    { nSamples: 1e6, maxIter: 10, repetitions: 3, sklearnLoopReps: 5, sklearnFitRepetitions: 1 },
    { nSamples: 3e6, maxIter: 10, repetitions: 2, sklearnLoopReps: 3, sklearnFitRepetitions: 0 },
    { nSamples: 1e7, maxIter: 5, repetitions: 2, sklearnLoopReps: 3, sklearnFitRepetitions: 0 },
  ],
};

/** Three-tissue T1-like intensities (CSF, grey, white matter), as in src/example.ts. */
const TRUTH_D1 = mixture([0.2, 0.45, 0.35], [[350], [650], [850]], [[[60 ** 2]], [[45 ** 2]], [[35 ** 2]]]);

/** Three correlated features (T1-, T2-, PD-like) per tissue. */
const TRUTH_D3 = mixture(
  [0.2, 0.45, 0.35],
  [
    [350, 1400, 900],
    [650, 900, 800],
    [850, 700, 700],
  ],
  [
    covariance(
      [60, 90, 70],
      [
        [1, -0.4, 0.3],
        [-0.4, 1, 0.2],
        [0.3, 0.2, 1],
      ],
    ),
    covariance(
      [45, 60, 50],
      [
        [1, 0.5, 0.3],
        [0.5, 1, 0.4],
        [0.3, 0.4, 1],
      ],
    ),
    covariance(
      [35, 50, 40],
      [
        [1, 0.6, -0.2],
        [0.6, 1, 0.1],
        [-0.2, 0.1, 1],
      ],
    ),
  ],
);

const WARM_D1: WarmStart = {
  weights: [1 / 3, 1 / 3, 1 / 3],
  means: [[300], [600], [900]],
  covariances: [[[80 ** 2]], [[70 ** 2]], [[60 ** 2]]],
};

const WARM_D3: WarmStart = {
  weights: [1 / 3, 1 / 3, 1 / 3],
  means: [
    [320, 1350, 860],
    [620, 950, 780],
    [880, 680, 720],
  ],
  covariances: [
    [
      [90 ** 2, 0, 0],
      [0, 130 ** 2, 0],
      [0, 0, 100 ** 2],
    ],
    [
      [70 ** 2, 0, 0],
      [0, 90 ** 2, 0],
      [0, 0, 75 ** 2],
    ],
    [
      [55 ** 2, 0, 0],
      [0, 75 ** 2, 0],
      [0, 0, 60 ** 2],
    ],
  ],
};

/** The two datasets of every sample size, with the warm start both sides get. */
export const DATASETS: DatasetSpec[] = [
  { id: 'd1', nFeatures: 1, warmStart: WARM_D1 },
  { id: 'd3', nFeatures: 3, warmStart: WARM_D3 },
];

/**
 * The paths measured for a dataset and covariance type. D = 3 has only the direct pass (tabulation
 * and the histogram need one integer feature); the per-voxel prior is measured with `full` only,
 * the covariance type of the segmentation's spatial stage.
 */
export function contestantsFor(dataset: DatasetId, covarianceType: CovarianceType): ContestantSpec[] {
  if (dataset === 'd3') return [{ name: 'direct', strategy: 'direct', withPrior: false }];
  return [
    { name: 'direct', strategy: 'direct', withPrior: false },
    { name: 'tabulated', strategy: 'tabulated', withPrior: false },
    ...(covarianceType === 'full'
      ? [{ name: 'tabulated+prior' as const, strategy: 'tabulated' as const, withPrior: true }]
      : []),
    { name: 'histogram', strategy: 'histogram', withPrior: false },
  ];
}

/**
 * The warm start in the form a covariance type can hold, so that both sides start from the same
 * model: `tied` gets the weighted pooled covariance for every component, `diag` the diagonals,
 * `spherical` the mean of each diagonal times the identity.
 */
export function warmStartFor(base: WarmStart, covarianceType: CovarianceType): WarmStart {
  const D = base.means[0]!.length;
  const identity = (d: number): number[][] =>
    Array.from({ length: d }, (_, i) => Array.from({ length: d }, (_, j) => (i === j ? 1 : 0)));
  switch (covarianceType) {
    case 'full':
      return base;
    case 'tied': {
      const total = base.weights.reduce((a, b) => a + b, 0);
      const pooled = identity(D).map((row, i) =>
        row.map((_, j) =>
          base.covariances.reduce((sum, matrix, k) => sum + (base.weights[k]! / total) * matrix[i]![j]!, 0),
        ),
      );
      return { ...base, covariances: base.covariances.map(() => pooled.map((row) => [...row])) };
    }
    case 'diag':
      return {
        ...base,
        covariances: base.covariances.map((matrix) =>
          matrix.map((row, i) => row.map((value, j) => (i === j ? value : 0))),
        ),
      };
    case 'spherical':
      return {
        ...base,
        covariances: base.covariances.map((matrix) => {
          const variance = matrix.reduce((sum, row, i) => sum + row[i]!, 0) / D;
          return identity(D).map((row) => row.map((v) => v * variance));
        }),
      };
    default:
      throw new TypeError(`unknown covariance type ${covarianceType satisfies never}`);
  }
}

function mixture(weights: number[], means: number[][], covariances: number[][][]): GaussianMixture {
  return {
    covarianceType: 'full',
    nComponents: weights.length,
    nFeatures: means[0]!.length,
    weights,
    means,
    covariances,
    precisionsCholesky: covariances.map(precisionCholesky),
  };
}

/** Covariance from standard deviations and a correlation matrix: S R S. */
function covariance(sds: number[], correlation: number[][]): number[][] {
  return correlation.map((row, i) => row.map((r, j) => r * sds[i]! * sds[j]!));
}

/** Upper-triangular U with U U^T = inverse(covariance): U = L^-T for covariance = L L^T. */
function precisionCholesky(matrix: number[][]): number[][] {
  const D = matrix.length;
  const lower = Array.from({ length: D }, () => new Array<number>(D).fill(0));
  for (let i = 0; i < D; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = matrix[i]![j]!;
      for (let p = 0; p < j; p++) sum -= lower[i]![p]! * lower[j]![p]!;
      lower[i]![j] = i === j ? Math.sqrt(sum) : sum / lower[j]![j]!;
    }
  }
  // Invert the lower factor by forward substitution, then transpose.
  const inverse = Array.from({ length: D }, () => new Array<number>(D).fill(0));
  for (let c = 0; c < D; c++) {
    for (let i = c; i < D; i++) {
      let sum = i === c ? 1 : 0;
      for (let p = c; p < i; p++) sum -= lower[i]![p]! * inverse[p]![c]!;
      inverse[i]![c] = sum / lower[i]![i]!;
    }
  }
  return inverse.map((_, i) => inverse.map((row) => row[i]!));
}

function writeFloat32(path: string, data: Float32Array): void {
  if (os.endianness() !== 'LE')
    throw new Error('this benchmark writes little-endian float32 on LE hosts only');
  writeFileSync(path, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
}

function describeData(file: string, data: Float32Array, nFeatures: number, generationMs: number): DataInfo {
  let minimum = Infinity;
  let maximum = -Infinity;
  let integerValues = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v < minimum) minimum = v;
    if (v > maximum) maximum = v;
    if (Number.isInteger(v)) integerValues++;
  }
  return {
    file,
    nSamples: data.length / nFeatures,
    nFeatures,
    inputBytes: data.byteLength,
    minimum,
    maximum,
    integerValues,
    generationMs,
  };
}

/** Unrounded draws plus a small positive jitter, never an integer once stored as float32. */
function nonInteger(
  core: typeof Core,
  draws: Float64Array,
  seed: number,
): { data: Float32Array; nudged: number } {
  const random = core.createRandom(seed);
  const data = new Float32Array(draws.length);
  let nudged = 0;
  for (let i = 0; i < draws.length; i++) {
    let v = Math.fround(draws[i]! + 0.001 + 0.009 * random.nextFloat());
    if (Number.isInteger(v)) {
      v = Math.fround(v + 0.25);
      nudged++;
    }
    data[i] = v;
  }
  return { data, nudged };
}

/** Generates the data files of one sample size: D1 (integer-valued) and D3. */
export function generateData(
  core: typeof Core,
  nSamples: number,
  directory: string,
): Map<DatasetId, DataInfo> {
  const infos = new Map<DatasetId, DataInfo>();
  let started = performance.now();
  const draws1 = core.sample(TRUTH_D1, nSamples, 42).samples.data;
  const integers = new Float32Array(nSamples);
  for (let i = 0; i < nSamples; i++) integers[i] = Math.round(draws1[i]!);
  const intFile = join(directory, `d1-${nSamples}.f32`);
  writeFloat32(intFile, integers);
  infos.set('d1', describeData(intFile, integers, 1, performance.now() - started));
  started = performance.now();
  const draws3 = core.sample(TRUTH_D3, nSamples, 44).samples.data;
  const d3 = nonInteger(core, draws3, 45);
  const d3File = join(directory, `d3-${nSamples}.f32`);
  writeFloat32(d3File, d3.data);
  infos.set('d3', { ...describeData(d3File, d3.data, 3, performance.now() - started), nudged: d3.nudged });
  return infos;
}
