import { describe, expect, it } from 'vitest';
import { compareLabelMaps } from '../../src/evaluation/compare.ts';
import { applyModel } from '../../src/segmentation/apply-model.ts';
import { segment } from '../../src/segmentation/segment.ts';
import { boxSum, neighbourhoodPrior, pottsPrior } from '../../src/segmentation/spatial-prior.ts';
import { generatePhantom } from '../../src/synthetic/phantom.ts';

describe('boxSum', () => {
  it('equals a naive window sum in 3-D and 2-D, for radius 1 and 2', () => {
    for (const dims of [
      [7, 5, 4],
      [6, 5, 1],
    ] as [number, number, number][]) {
      for (const radius of [1, 2]) {
        const [nx, ny, nz] = dims;
        const values = Float32Array.from({ length: nx * ny * nz }, (_, i) => (i * 7919) % 13);
        const summed = values.slice();
        boxSum(summed, dims, radius);
        for (let z = 0; z < nz; z++) {
          for (let y = 0; y < ny; y++) {
            for (let x = 0; x < nx; x++) {
              let expected = 0;
              for (let c = Math.max(0, z - radius); c <= Math.min(nz - 1, z + radius); c++) {
                for (let b = Math.max(0, y - radius); b <= Math.min(ny - 1, y + radius); b++) {
                  for (let a = Math.max(0, x - radius); a <= Math.min(nx - 1, x + radius); a++) {
                    expected += values[a + nx * (b + ny * c)]!;
                  }
                }
              }
              expect(summed[x + nx * (y + ny * z)]).toBe(expected);
            }
          }
        }
      }
    }
  });
});

describe('spatial priors', () => {
  // a 4 x 4 x 1 image, every voxel a sample; left half class 0, right half class 1
  const grid = {
    dims: [4, 4, 1] as [number, number, number],
    spacing: [1, 1, 1] as [number, number, number],
    voxelIndices: Uint32Array.from({ length: 16 }, (_, i) => i),
  };
  const responsibilities = Float32Array.from({ length: 32 }, (_, j) => {
    const voxel = j >> 1;
    const left = voxel % 4 < 2;
    return (j & 1) === (left ? 0 : 1) ? 1 : 0;
  });
  const model = {
    covarianceType: 'full' as const,
    nComponents: 2,
    nFeatures: 1,
    weights: [0.5, 0.5],
    means: [[0], [1]],
    covariances: [[[1]], [[1]]],
    precisionsCholesky: [[[1]], [[1]]],
  };

  it('makes the neighbourhood factor follow the neighbours, never zero', () => {
    const prior = new Float32Array(32);
    neighbourhoodPrior(grid, 2, { pseudoCount: 0.1 })({ iteration: 1, responsibilities, prior, model });
    // voxel (0, 1): 5 in-mask neighbours in 2-D, all class 0
    expect(prior[4 * 2]).toBeCloseTo(5.1 / 5.2, 6);
    expect(prior[4 * 2 + 1]).toBeCloseTo(0.1 / 5.2, 6);
    // voxel (1, 1): 8 neighbours, 5 of class 0 and 3 of class 1
    expect(prior[5 * 2]).toBeCloseTo(5.1 / 8.2, 6);
    expect(prior[5 * 2 + 1]).toBeCloseTo(3.1 / 8.2, 6);
  });

  it("makes the Potts prior favour the neighbours' labels by exp(beta x weight)", () => {
    const prior = new Float32Array(32);
    pottsPrior(grid, 2, { beta: 0.5, connectivity: 26 })({ iteration: 1, responsibilities, prior, model });
    // voxel (1, 1): 8-neighbourhood in 2-D, weights 1 (4 faces) and 1/sqrt(2) (4 corners)
    const w = 1 / Math.SQRT2;
    // neighbours of (1,1): (0,0) c0 w, (1,0) c0 1, (2,0) c1 w, (0,1) c0 1, (2,1) c1 1, (0,2) c0 w, (1,2) c0 1, (2,2) c1 w
    const e0 = 3 + 2 * w;
    const e1 = 1 + 2 * w;
    expect(prior[5 * 2]).toBeCloseTo(1, 6);
    expect(prior[5 * 2 + 1]).toBeCloseTo(Math.exp(0.5 * (e1 - e0)), 6);
  });

  it('refuses bad strengths and neighbourhoods', () => {
    expect(() => neighbourhoodPrior(grid, 2, { beta: -1 })).toThrow(
      'beta must be a finite number >= 0, got -1',
    );
    expect(() => pottsPrior(grid, 2, { connectivity: 18 as 26 })).toThrow(
      'connectivity must be 6 or 26, got 18',
    );
  });
});

describe('segment', () => {
  const phantom = generatePhantom({ dims: [64, 64, 48], noiseLevel: 0.06, seed: 3 });
  const voxelMl = (phantom.image.spacing[0] * phantom.image.spacing[1] * phantom.image.spacing[2]) / 1000;
  const score = (labels: Uint8Array) => compareLabelMaps(labels, phantom.labels, { voxelVolumeMl: voxelMl });

  // Plain CSF/GM/WM .967/.941/.953; PPF .969/.968/.981; MRF .968/.971/.985. The thin CSF rim
  // gains least, so it is asserted as a strict gain only.
  it('labels CSF < GM < WM and beats the plain mixture on every class of a noisy phantom', () => {
    const plain = segment([phantom.image], { prior: 'none' });
    const dicePlain = score(plain.labels).classes.map((c) => c.dice);
    const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
    for (const prior of ['ppf', 'mrf'] as const) {
      const spatial = segment([phantom.image], { prior });
      const diceSpatial = score(spatial.labels).classes.map((c) => c.dice);
      expect(diceSpatial[1]!, `${prior} GM`).toBeGreaterThan(dicePlain[1]! + 0.01);
      expect(diceSpatial[2]!, `${prior} WM`).toBeGreaterThan(dicePlain[2]! + 0.01);
      expect(mean(diceSpatial), `${prior} mean`).toBeGreaterThan(mean(dicePlain) + 0.01);
      expect(diceSpatial[0]!, `${prior} CSF`).toBeGreaterThan(dicePlain[0]!);
      const means = spatial.statistics.map((s) => s.meanIntensity[0]!);
      expect(means[0]!).toBeLessThan(means[1]!);
      expect(means[1]!).toBeLessThan(means[2]!);
    }
  });

  it('segments the same image given as two channels like the image alone (collinear channels)', () => {
    const small = generatePhantom({ dims: [32, 32, 24], noiseLevel: 0.04, seed: 1 });
    const one = segment([small.image], { prior: 'none' });
    const two = segment([small.image, small.image], { prior: 'none' });
    let differ = 0;
    for (let v = 0; v < one.labels.length; v++) if (one.labels[v] !== two.labels[v]) differ++;
    expect(differ / one.labels.length).toBeLessThan(0.01);
  });

  it('gives bit-identical outputs for the same input, options and seed', () => {
    const a = segment([phantom.image], { seed: 5 });
    const b = segment([phantom.image], { seed: 5 });
    expect(Buffer.from(b.labels).equals(Buffer.from(a.labels))).toBe(true);
    expect(Buffer.from(b.probabilities!.buffer).equals(Buffer.from(a.probabilities!.buffer))).toBe(true);
  });

  it('returns the model in the units of the bias-corrected intensities, its trace running on across stages', () => {
    const biased = generatePhantom({ dims: [64, 64, 48], noiseLevel: 0.04, bias: 0.3, seed: 3 });
    const result = segment([biased.image], { prior: 'none' });
    const field = result.biasFields![0]!;
    // the model applied to the corrected intensities gives the fit's own labels
    const corrected = {
      ...biased.image,
      data: biased.image.data.map((x, v) => (field[v]! > 0 ? x / field[v]! : 0)),
    };
    const applied = applyModel([corrected], result.partialVolume!, { prior: 'none', mask: biased.image });
    let differ = 0;
    let inside = 0;
    for (let v = 0; v < result.labels.length; v++) {
      if (!result.mask[v]) continue;
      inside++;
      if (applied.labels[v] !== result.labels[v]) differ++;
    }
    expect(differ / inside).toBeLessThan(0.005);
    // log-likelihoods per unit of intensity in both stages: no jump where the spatial stage starts
    const spatial = segment([phantom.image]);
    const mixture = spatial.mixture.logLikelihoodTrace;
    expect(Math.abs(spatial.spatial!.logLikelihoodTrace[0]! - mixture.at(-1)!)).toBeLessThan(0.1);
    expect(Math.abs(spatial.mixture.meanLogLikelihood - mixture.at(-1)!)).toBeLessThan(1e-12);
    // and in the same units as a fit to the uncorrected intensities (this phantom has no bias)
    const uncorrected = segment([phantom.image], { biasCorrection: false });
    expect(Math.abs(spatial.mixture.meanLogLikelihood - uncorrected.mixture.meanLogLikelihood)).toBeLessThan(
      0.1,
    );
  });

  it('reports statistics, probabilities summing to one in the mask, and 0 outside', () => {
    const result = segment([phantom.image]);
    const total = result.statistics.reduce((sum, s) => sum + s.voxels, 0);
    expect(total).toBe(result.mask.reduce((a, b) => a + b, 0));
    expect(result.statistics.map((s) => s.name)).toEqual(['CSF', 'GM', 'WM']);
    expect(result.statistics[2]!.volumeMl).toBeCloseTo(result.statistics[2]!.voxels * voxelMl, 9);
    const K = 3;
    for (let v = 0; v < result.labels.length; v += 97) {
      const p = result.probabilities!.subarray(v * K, v * K + K);
      const sum = p[0]! + p[1]! + p[2]!;
      if (result.mask[v]) expect(sum).toBeCloseTo(1, 5);
      else expect(sum).toBe(0);
      if (!result.mask[v]) expect(result.labels[v]).toBe(0);
    }
    expect(result.spatial?.logLikelihoodTrace.length).toBeGreaterThan(1);
  });
});

describe('neighbourhoodPrior on a 3-D mask', () => {
  // an irregular mask in a 9 x 8 x 7 grid, three classes with random responsibilities
  const dims: [number, number, number] = [9, 8, 7];
  const [nx, ny, nz] = dims;
  const voxels: number[] = [];
  for (let v = 0; v < nx * ny * nz; v++) if ((v * 7919) % 11 < 8) voxels.push(v);
  const grid = {
    dims,
    spacing: [1, 1, 1] as [number, number, number],
    voxelIndices: Uint32Array.from(voxels),
  };
  const K = 3;
  const N = voxels.length;
  const responsibilities = new Float32Array(N * K);
  for (let i = 0; i < N; i++) {
    const raw = [1 + ((i * 37) % 5), 1 + ((i * 53) % 7), 1 + ((i * 11) % 3)];
    const total = raw[0]! + raw[1]! + raw[2]!;
    for (let k = 0; k < K; k++) responsibilities[i * K + k] = raw[k]! / total;
  }
  const model = {
    covarianceType: 'full' as const,
    nComponents: K,
    nFeatures: 1,
    weights: [0.3, 0.3, 0.4],
    means: [[0], [1], [2]],
    covariances: [[[1]], [[1]], [[1]]],
    precisionsCholesky: [[[1]], [[1]], [[1]]],
  };

  it('equals the naive window formula for every radius, centre rule, strength and class weights', () => {
    const sampleOf = new Map(voxels.map((v, i) => [v, i]));
    const alpha = 0.1;
    for (const radius of [1, 2]) {
      for (const includeCentre of [false, true]) {
        for (const beta of [1, 0.5]) {
          const classWeights = [0.2, 0.5, 0.3];
          const prior = new Float32Array(N * K);
          neighbourhoodPrior(grid, K, { radius, includeCentre, beta, classWeights, pseudoCount: alpha })({
            iteration: 1,
            responsibilities,
            prior,
            model,
          });
          for (let i = 0; i < N; i++) {
            const v = voxels[i]!;
            const [x, y, z] = [v % nx, Math.floor(v / nx) % ny, Math.floor(v / (nx * ny))];
            const sums = [0, 0, 0];
            let count = 0;
            for (let c = z - radius; c <= z + radius; c++) {
              for (let b = y - radius; b <= y + radius; b++) {
                for (let a = x - radius; a <= x + radius; a++) {
                  if (a < 0 || b < 0 || c < 0 || a >= nx || b >= ny || c >= nz) continue;
                  const j = sampleOf.get(a + nx * (b + ny * c));
                  if (j === undefined || (j === i && !includeCentre)) continue;
                  count++;
                  for (let k = 0; k < K; k++) sums[k]! += responsibilities[j * K + k]!;
                }
              }
            }
            for (let k = 0; k < K; k++) {
              const expected = ((sums[k]! + alpha) / (count + K * alpha)) ** beta * classWeights[k]!;
              expect(prior[i * K + k]! / expected).toBeCloseTo(1, 5);
            }
          }
        }
      }
    }
  });
});
