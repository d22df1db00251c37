import { describe, expect, it } from 'vitest';
import { generatePhantom, type Phantom, type PhantomOptions } from '../../src/index.ts';

/** Odd dims, so that voxel (32, 32, 24) sits exactly at the world origin. */
const SMALL: PhantomOptions = { dims: [65, 65, 49] };
const CENTRE = [32, 32, 24] as const;

function index(phantom: Phantom, i: number, j: number, k: number): number {
  const [nx, ny] = phantom.image.dims;
  return i + nx * (j + ny * k);
}

/** Labels along a line of voxels from the centre, with repeats collapsed: [3, 3, 2, 1, 1, 0] -> [3, 2, 1, 0]. */
function labelRuns(phantom: Phantom, step: [number, number, number]): number[] {
  const [nx, ny, nz] = phantom.image.dims;
  const runs: number[] = [];
  const inside = (i: number, j: number, k: number) =>
    i >= 0 && j >= 0 && k >= 0 && i < nx && j < ny && k < nz;
  for (let [i, j, k] = CENTRE; inside(i, j, k); i += step[0], j += step[1], k += step[2]) {
    const label = phantom.labels[index(phantom, i, j, k)]!;
    if (runs.at(-1) !== label) runs.push(label);
  }
  return runs;
}

/** Values of the voxels made of pure tissue t (fraction 1; 0 CSF, 1 GM, 2 WM) that pass a filter. */
function pureTissueValues(
  phantom: Phantom,
  tissue: number,
  where: (i: number, j: number, k: number) => boolean,
) {
  const [nx, ny, nz] = phantom.image.dims;
  const values: number[] = [];
  for (let k = 0, v = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, v++) {
        if (phantom.fractions[3 * v + tissue] === 1 && where(i, j, k)) values.push(phantom.image.data[v]!);
      }
    }
  }
  return values;
}

/** Byte-for-byte equality of two typed arrays (much faster than a deep equal of 200 000 elements). */
function sameBytes(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(
    Buffer.from(b.buffer, b.byteOffset, b.byteLength),
  );
}

function minimum(values: ArrayLike<number>): number {
  let smallest = Infinity;
  for (let i = 0; i < values.length; i++) smallest = Math.min(smallest, values[i]!);
  return smallest;
}

function mean(values: number[]): number {
  return values.reduce((sum, x) => sum + x, 0) / values.length;
}

function standardDeviation(values: number[]): number {
  const m = mean(values);
  return Math.sqrt(values.reduce((sum, x) => sum + (x - m) ** 2, 0) / (values.length - 1));
}

/** Share of the brain voxels of each tissue, from the partial-volume fractions: [CSF, GM, WM]. */
function tissueShares(phantom: Phantom): [number, number, number] {
  const totals = [0, 0, 0];
  let brain = 0;
  for (let v = 0; v < phantom.mask.length; v++) {
    if (!phantom.mask[v]) continue;
    brain++;
    for (let t = 0; t < 3; t++) totals[t]! += phantom.fractions[3 * v + t]!;
  }
  return [totals[0]! / brain, totals[1]! / brain, totals[2]! / brain];
}

describe('generatePhantom', () => {
  it('makes a 96 x 96 x 72 brain of about 19 % CSF, 42 % GM and 39 % WM by default', () => {
    const started = performance.now();
    const phantom = generatePhantom();
    const milliseconds = performance.now() - started;
    expect(phantom.image.dims).toEqual([96, 96, 72]);
    expect(phantom.image.spacing).toEqual([1.5, 1.5, 1.5]);
    expect(phantom.image.data).toBeInstanceOf(Float32Array);
    expect(phantom.labels).toHaveLength(96 * 96 * 72);
    expect(phantom.fractions).toHaveLength(3 * 96 * 96 * 72);
    expect(phantom.options).toEqual({
      dims: [96, 96, 72],
      spacing: [1.5, 1.5, 1.5],
      shape: 'ellipsoids',
      noise: 'gaussian',
      noiseLevel: 0.03,
      bias: 0,
      partialVolume: true,
      intensities: { csf: 300, gm: 650, wm: 850 },
      integer: true,
      seed: 0,
      artefact: 'none',
    });
    const [csf, gm, wm] = tissueShares(phantom);
    const brainVoxels = phantom.mask.reduce((sum, x) => sum + x, 0);
    console.log(
      `default phantom: ${brainVoxels} brain voxels (${((brainVoxels * 1.5 ** 3) / 1000).toFixed(0)} mL); ` +
        `CSF ${(100 * csf).toFixed(1)} %, GM ${(100 * gm).toFixed(1)} %, WM ${(100 * wm).toFixed(1)} % ` +
        `(partial-volume fractions); generated in ${milliseconds.toFixed(0)} ms`,
    );
    expect(csf).toBeCloseTo(0.19, 2);
    expect(gm).toBeCloseTo(0.419, 2);
    expect(wm).toBeCloseTo(0.391, 2);
    expect(brainVoxels).toBeGreaterThan(200_000);
    expect(brainVoxels).toBeLessThan(210_000);
  });

  it('gives bit-identical arrays for the same options and seed', () => {
    const first = generatePhantom({ ...SMALL, seed: 7, bias: 0.1, noise: 'rician' });
    const second = generatePhantom({ ...SMALL, seed: 7, bias: 0.1, noise: 'rician' });
    expect(sameBytes(first.image.data, second.image.data)).toBe(true);
    expect(sameBytes(first.fractions, second.fractions)).toBe(true);
    expect(sameBytes(first.labels, second.labels)).toBe(true);
    expect(sameBytes(first.mask, second.mask)).toBe(true);
  });

  it('changes only the noise, not the anatomy, with another seed', () => {
    const first = generatePhantom({ ...SMALL, seed: 1 });
    const second = generatePhantom({ ...SMALL, seed: 2 });
    expect(sameBytes(second.labels, first.labels)).toBe(true);
    expect(sameBytes(second.fractions, first.fractions)).toBe(true);
    let brain = 0;
    let differing = 0;
    for (let v = 0; v < first.mask.length; v++) {
      if (!first.mask[v]) continue;
      brain++;
      if (first.image.data[v] !== second.image.data[v]) differing++;
    }
    // sd 25.5 rounded to integers: two draws coincide about 1 % of the time
    expect(differing / brain).toBeGreaterThan(0.95);
  });

  it('puts the world origin at the centre voxel with a plain RAS geometry', () => {
    const phantom = generatePhantom({ ...SMALL, spacing: [1, 1.2, 2] });
    const { affine, geometry, source } = phantom.image;
    expect(affine).toEqual([
      [1, 0, 0, -32],
      [0, 1.2, 0, -38.4],
      [0, 0, 2, -48],
      [0, 0, 0, 1],
    ]);
    const world = affine.slice(0, 3).map((row) => row[0]! * 32 + row[1]! * 32 + row[2]! * 24 + row[3]!);
    expect(world[0]).toBeCloseTo(0, 12);
    expect(world[1]).toBeCloseTo(0, 12);
    expect(world[2]).toBeCloseTo(0, 12);
    expect(geometry).toEqual({
      qformCode: 2,
      sformCode: 2,
      quaternion: [0, 0, 0],
      qoffset: [-32, -38.4, -48],
      pixdim: [1, 1, 1.2, 2, 0, 0, 0, 0],
      srow: [affine[0], affine[1], affine[2]],
      xyztUnits: 2,
    });
    expect(source).toEqual({
      path: 'phantom',
      format: 'nifti-1',
      datatype: 'int16',
      nVolumes: 1,
      volumeIndex: 0,
    });
  });

  it('centres the default even-sized grid between voxels 47 and 48 (x, y) and 35 and 36 (z)', () => {
    const { affine } = generatePhantom({ noiseLevel: 0 }).image;
    expect(
      affine.slice(0, 3).map((row) => row[0]! * 47.5 + row[1]! * 47.5 + row[2]! * 35.5 + row[3]!),
    ).toEqual([0, 0, 0]);
  });

  it('labels 0..3 with the mask exactly where labels > 0', () => {
    const phantom = generatePhantom(SMALL);
    const seen = new Set(phantom.labels);
    expect([...seen].sort()).toEqual([0, 1, 2, 3]);
    for (let v = 0; v < phantom.labels.length; v++) {
      if (phantom.mask[v] !== (phantom.labels[v]! > 0 ? 1 : 0)) throw new Error(`mask differs at ${v}`);
    }
  });

  it('nests WM inside GM inside CSF inside background, from the centre outwards', () => {
    const phantom = generatePhantom(SMALL);
    expect(labelRuns(phantom, [0, 1, 0])).toEqual([3, 2, 1, 0]);
    expect(labelRuns(phantom, [0, -1, 0])).toEqual([3, 2, 1, 0]);
    expect(labelRuns(phantom, [0, 0, -1])).toEqual([3, 2, 1, 0]);
    expect(labelRuns(phantom, [-1, -1, -1])).toEqual([3, 2, 1, 0]);
  });

  it('puts ventricle-like CSF in the WM a few millimetres either side of the centre', () => {
    const phantom = generatePhantom(SMALL);
    // along x: WM at the centre, a ventricle, WM again, then the cortex and the CSF rim
    expect(labelRuns(phantom, [1, 0, 0])).toEqual([3, 1, 3, 2, 1, 0]);
    expect(labelRuns(phantom, [-1, 0, 0])).toEqual([3, 1, 3, 2, 1, 0]);
    const [i, j, k] = CENTRE;
    expect(phantom.labels[index(phantom, i, j, k)]).toBe(3);
    expect(phantom.labels[index(phantom, i + 4, j, k)]).toBe(1); // 6 mm right of the centre
    expect(phantom.labels[index(phantom, i - 4, j, k)]).toBe(1);
  });

  it('makes concentric spherical shells with no ventricles for shape "shells"', () => {
    const phantom = generatePhantom({ ...SMALL, shape: 'shells' });
    for (const step of [
      [1, 0, 0],
      [-1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ] as [number, number, number][]) {
      expect(labelRuns(phantom, step)).toEqual([3, 2, 1, 0]);
    }
    // every CSF voxel lies in the outer rim: at least 0.937 x 0.85 x 36.75 mm - one voxel diagonal
    const [nx, ny, nz] = phantom.image.dims;
    let innermostCsf = Infinity;
    for (let k = 0, v = 0; k < nz; k++) {
      for (let j = 0; j < ny; j++) {
        for (let i = 0; i < nx; i++, v++) {
          if (phantom.labels[v] !== 1) continue;
          const radius = 1.5 * Math.hypot(i - CENTRE[0], j - CENTRE[1], k - CENTRE[2]);
          innermostCsf = Math.min(innermostCsf, radius);
        }
      }
    }
    expect(innermostCsf).toBeGreaterThan(0.937 * 0.85 * 36.75 - 1.5 * Math.sqrt(3));
    const [csf, gm, wm] = tissueShares(phantom);
    expect(csf).toBeCloseTo(0.18, 1);
    expect(gm).toBeCloseTo(0.42, 1);
    expect(wm).toBeCloseTo(0.4, 1);
  });

  it('gives fractions that sum to 1 in the brain, 0 outside, and are fractional only at boundaries', () => {
    const phantom = generatePhantom(SMALL);
    const [nx, ny, nz] = phantom.image.dims;
    const problems = {
      nonzeroOutside: 0,
      sumNotOne: 0,
      labelNotMajority: 0,
      mixedInInterior: 0,
      notTwentySevenths: 0,
    };
    let mixed = 0;
    for (let k = 0, v = 0; k < nz; k++) {
      for (let j = 0; j < ny; j++) {
        for (let i = 0; i < nx; i++, v++) {
          const f = [phantom.fractions[3 * v]!, phantom.fractions[3 * v + 1]!, phantom.fractions[3 * v + 2]!];
          const label = phantom.labels[v]!;
          if (label === 0) {
            if (f[0] !== 0 || f[1] !== 0 || f[2] !== 0) problems.nonzeroOutside++;
            continue;
          }
          if (Math.abs(f[0]! + f[1]! + f[2]! - 1) > 1e-6) problems.sumNotOne++;
          // the crisp label is the majority tissue
          if (f[label - 1] !== Math.max(...f)) problems.labelNotMajority++;
          if (Math.max(...f) === 1) continue;
          mixed++;
          // 3 x 3 x 3 sub-samples: fractions are multiples of 1/27
          if (Math.abs(f[0]! * 27 - Math.round(f[0]! * 27)) > 1e-4) problems.notTwentySevenths++;
          // a mixed voxel has a neighbour (26-connectivity) of another label
          let boundary = false;
          for (let c = -1; c <= 1; c++) {
            for (let b = -1; b <= 1; b++) {
              for (let a = -1; a <= 1; a++) {
                if (phantom.labels[index(phantom, i + a, j + b, k + c)] !== label) boundary = true;
              }
            }
          }
          if (!boundary) problems.mixedInInterior++;
        }
      }
    }
    expect(problems).toEqual({
      nonzeroOutside: 0,
      sumNotOne: 0,
      labelNotMajority: 0,
      mixedInInterior: 0,
      notTwentySevenths: 0,
    });
    expect(mixed).toBeGreaterThan(10_000);
  });

  it('makes crisp labels and one-hot fractions without partial volume', () => {
    const phantom = generatePhantom({ ...SMALL, partialVolume: false, noiseLevel: 0 });
    const intensity = [0, 300, 650, 850];
    for (let v = 0; v < phantom.labels.length; v++) {
      const label = phantom.labels[v]!;
      const f = [0, 0, 0];
      if (label > 0) f[label - 1] = 1;
      if (phantom.fractions[3 * v] !== f[0] || phantom.fractions[3 * v + 1] !== f[1]) {
        throw new Error(`fractions of voxel ${v} are not one-hot`);
      }
      if (phantom.image.data[v] !== intensity[label]) throw new Error(`voxel ${v} is not pure tissue`);
    }
  });

  it('mixes tissue intensities in proportion to the fractions when noise and bias are off', () => {
    const phantom = generatePhantom({ ...SMALL, noiseLevel: 0, integer: false });
    for (let v = 0; v < phantom.labels.length; v++) {
      const expected =
        300 * phantom.fractions[3 * v]! +
        650 * phantom.fractions[3 * v + 1]! +
        850 * phantom.fractions[3 * v + 2]!;
      if (Math.abs(phantom.image.data[v]! - expected) > 1e-3) throw new Error(`voxel ${v} is not the mix`);
    }
  });

  it('adds Gaussian noise of sd noiseLevel x WM intensity, measured in pure WM', () => {
    const phantom = generatePhantom({ ...SMALL, noiseLevel: 0.05, integer: false });
    const wm = pureTissueValues(phantom, 2, () => true);
    expect(wm.length).toBeGreaterThan(20_000);
    expect(Math.abs(mean(wm) - 850)).toBeLessThan(1.5); // standard error 0.3
    expect(standardDeviation(wm) / (0.05 * 850)).toBeGreaterThan(0.97);
    expect(standardDeviation(wm) / (0.05 * 850)).toBeLessThan(1.03);
    // like a skull-stripped image, the background stays exactly 0
    expect(phantom.image.data.filter((x, v) => !phantom.mask[v] && x !== 0)).toHaveLength(0);
  });

  it('makes Rician noise non-negative and biased upward in dark CSF, hardly in bright WM', () => {
    const options: PhantomOptions = { ...SMALL, noiseLevel: 0.3, integer: false };
    const rician = generatePhantom({ ...options, noise: 'rician' });
    const gaussian = generatePhantom({ ...options, noise: 'gaussian' });
    expect(minimum(rician.image.data)).toBe(0); // the background; no voxel below it
    expect(minimum(gaussian.image.data)).toBeLessThan(0);
    const all = () => true;
    // sigma = 255: Rician mean = sigma sqrt(pi/2) L_1/2(-nu^2 / (2 sigma^2)) = 421.9 for nu = 300
    expect(mean(pureTissueValues(rician, 0, all))).toBeGreaterThan(421.9 * 0.98);
    expect(mean(pureTissueValues(rician, 0, all))).toBeLessThan(421.9 * 1.02);
    expect(mean(pureTissueValues(gaussian, 0, all))).toBeCloseTo(300, -1);
    // and about sigma^2 / (2 nu) = 38 above 850 in WM
    expect(mean(pureTissueValues(rician, 2, all)) - 850).toBeGreaterThan(30);
    expect(mean(pureTissueValues(rician, 2, all)) - 850).toBeLessThan(45);
  });

  it('scales WM by a smooth bias field whose far-apart values differ by about the amplitude', () => {
    const halfFieldOfView = (65 * 1.5) / 2;
    // small cubes of pure WM at y = -0.49 and +0.49 of the half field of view, on the x = z = 0 axis
    const region = (jCentre: number) => (i: number, j: number, k: number) =>
      Math.abs(i - 32) <= 2 && Math.abs(j - jCentre) <= 1 && Math.abs(k - 24) <= 2;
    const posterior = 32 - 16;
    const anterior = 32 + 16;
    const phantom = generatePhantom({ ...SMALL, bias: 0.2, noiseLevel: 0 });
    const low = mean(pureTissueValues(phantom, 2, region(posterior)));
    const high = mean(pureTissueValues(phantom, 2, region(anterior)));
    const expectedField = 1 + 0.2 * 0.75 * Math.sin((Math.PI * (16 * 1.5)) / halfFieldOfView / 2);
    expect(high).toBeCloseTo(850 * expectedField, -1);
    // (high - low) / mean = 2 x 0.2 x 0.75 sin(0.49 pi / 2) = 0.209 for amplitude 0.2
    expect((high - low) / ((high + low) / 2)).toBeCloseTo(0.209, 2);
    const flat = generatePhantom({ ...SMALL, noiseLevel: 0 });
    expect(mean(pureTissueValues(flat, 2, region(posterior)))).toBe(850);
    expect(mean(pureTissueValues(flat, 2, region(anterior)))).toBe(850);
  });

  it('makes a 2-D phantom of [w, h, 1] with in-plane partial volume', () => {
    const phantom = generatePhantom({ dims: [128, 128, 1] });
    expect(phantom.image.dims).toEqual([128, 128, 1]);
    expect(phantom.image.affine[2]).toEqual([0, 0, 1.5, 0]);
    const row = (j: number) => Array.from(phantom.labels.subarray(128 * j, 128 * (j + 1)));
    const runs = (values: number[]) => values.filter((x, i) => i === 0 || values[i - 1] !== x);
    // through the centre and the ventricles: 0 1 2 3 1 3 1 3 2 1 0
    expect(runs(row(64))).toEqual([0, 1, 2, 3, 1, 3, 1, 3, 2, 1, 0]);
    for (let v = 0; v < phantom.labels.length; v++) {
      if (!phantom.mask[v]) continue;
      // 3 x 3 sub-samples in the plane: fractions are multiples of 1/9
      const f = phantom.fractions[3 * v + 1]! * 9;
      if (Math.abs(f - Math.round(f)) > 1e-4) throw new Error(`fraction of voxel ${v} is not k/9`);
    }
    const [csf, gm, wm] = tissueShares(phantom);
    expect(csf + gm + wm).toBeCloseTo(1, 6);
    expect(wm).toBeGreaterThan(gm);
  });

  it('rounds to non-negative integers like int16 by default, and keeps floats with integer false', () => {
    const integers = generatePhantom({ ...SMALL, noiseLevel: 0.5 });
    expect(integers.image.source.datatype).toBe('int16');
    expect(integers.image.data.every((x) => Number.isInteger(x) && x >= 0 && x <= 32767)).toBe(true);
    const floats = generatePhantom({ ...SMALL, integer: false });
    expect(floats.image.source.datatype).toBe('float32');
    expect(floats.image.data.some((x) => !Number.isInteger(x))).toBe(true);
  });

  it('takes custom intensities, keeping the defaults it is not given', () => {
    const phantom = generatePhantom({
      ...SMALL,
      noiseLevel: 0,
      partialVolume: false,
      intensities: { csf: 1000 },
    });
    expect(phantom.options.intensities).toEqual({ csf: 1000, gm: 650, wm: 850 });
    const [i, j, k] = CENTRE;
    expect(phantom.image.data[index(phantom, i + 4, j, k)]).toBe(1000);
  });

  it.each([
    [{ dims: [96, 96] }, 'dims must be three positive integers [nx, ny, nz] with nx, ny >= 2, got [96,96]'],
    [
      { dims: [1, 96, 72] },
      'dims must be three positive integers [nx, ny, nz] with nx, ny >= 2, got [1,96,72]',
    ],
    [
      { dims: [96, 96, 0.5] },
      'dims must be three positive integers [nx, ny, nz] with nx, ny >= 2, got [96,96,0.5]',
    ],
    [{ spacing: [1, 0, 1] }, 'spacing must be three finite numbers > 0 (mm), got [1,0,1]'],
    [{ shape: 'cubes' }, 'shape must be "ellipsoids" or "shells", got "cubes"'],
    [{ noise: 'poisson' }, 'noise must be "gaussian" or "rician", got "poisson"'],
    [
      { noiseLevel: 0.6 },
      'noiseLevel must be a number in [0, 0.5] (a fraction of the WM intensity), got 0.6',
    ],
    [
      { noiseLevel: -0.01 },
      'noiseLevel must be a number in [0, 0.5] (a fraction of the WM intensity), got -0.01',
    ],
    [{ bias: 1 }, 'bias must be a number in [0, 1), got 1'],
    [{ bias: Number.NaN }, 'bias must be a number in [0, 1), got NaN'],
    [{ partialVolume: 'yes' }, 'partialVolume must be a boolean, got "yes"'],
    [{ integer: 1 }, 'integer must be a boolean, got 1'],
    [{ intensities: { gm: -5 } }, 'intensities.gm must be a finite number >= 0, got -5'],
    [{ seed: 1.5 }, 'seed must be a safe integer, got 1.5'],
  ])('throws RangeError for %j', (options, message) => {
    expect(() => generatePhantom(options as PhantomOptions)).toThrow(RangeError);
    expect(() => generatePhantom(options as PhantomOptions)).toThrow(message);
  });
});
