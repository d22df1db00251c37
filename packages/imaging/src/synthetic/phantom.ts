/**
 * A synthetic T1-like brain with its ground truth, for testing and benchmarking segmentation
 * without data files. The anatomy is a few quadrics (nested ellipsoids or spherical shells); each
 * voxel is supersampled so that boundary voxels carry partial-volume tissue fractions, the image is
 * the fraction-weighted mix of the tissue intensities, times an optional smooth multiplicative bias
 * field, plus Gaussian or Rician noise from a seeded generator. Like a skull-stripped image, every
 * voxel outside the brain is exactly 0.
 */
import { createRandom } from '@mixseg/core';
import type { Volume } from '../types.ts';
import { addArtefact } from './phantom-artefacts.ts';
import {
  type Phantom,
  type PhantomOptions,
  type ResolvedPhantomOptions,
  resolvePhantomOptions,
} from './phantom-options.ts';

export {
  DEFAULT_PHANTOM_OPTIONS,
  PHANTOM_ARTEFACTS,
  type Phantom,
  type PhantomArtefact,
  type PhantomNoise,
  type PhantomOptions,
  type PhantomShape,
  type ResolvedPhantomOptions,
  type TissueIntensities,
} from './phantom-options.ts';

/** Sub-samples per axis of a voxel when partial volume is on. */
const SUPERSAMPLING = 3;
/** Largest value of a signed 16-bit integer, the clamp of integer phantoms. */
const INT16_MAX = 32767;

/*
 * The layering, as scale factors of the brain's outer boundary: CSF between 1 and GM_SCALE, GM
 * between GM_SCALE and WM_SCALE, WM inside. Nested scaled quadrics hold volumes in the ratio of
 * the scale cubed, so these give about 18 % CSF rim, 42 % GM and 40 % WM (less the ventricles).
 */
const GM_SCALE = 0.937;
const WM_SCALE = 0.739;
/** Brain semi-axes of the `ellipsoids` shape, as fractions of the half field of view. */
const BRAIN_SEMI_AXES = [0.82, 0.86, 0.84] as const;
/** Ventricles of the `ellipsoids` shape (centre and semi-axes as fractions of the half field of view). */
const VENTRICLES = [
  { centre: [-0.14, 0.04, 0.1], semiAxes: [0.08, 0.32, 0.15] },
  { centre: [0.14, 0.04, 0.1], semiAxes: [0.08, 0.32, 0.15] },
] as const;
/** Radius of the `shells` shape's outer sphere, as a fraction of the smallest half field of view. */
const SHELL_RADIUS = 0.85;

/**
 * A quadric sum_a ((u_a - centre_a) / semiAxis_a)² split per axis: `terms[a][i * S_a + s]` is the
 * axis-a term at sub-sample s of voxel i, so a sub-sample's value is three lookups and two adds.
 */
type QuadricTerms = [Float64Array, Float64Array, Float64Array];

/**
 * Generates a synthetic T1-like brain and its ground truth. Deterministic: the same options give
 * bit-identical arrays; the seed changes only the noise. The default phantom's brain is 205 736
 * voxels (694 mL) of about 19 % CSF, 42 % GM and 39 % WM (partial-volume fractions), and takes a few
 * hundred milliseconds to generate.
 *
 * @throws RangeError for an option out of range (the message gives the expected and the actual value)
 */
export function generatePhantom(options: PhantomOptions = {}): Phantom {
  const resolved = resolvePhantomOptions(options);
  const { dims, spacing, partialVolume } = resolved;
  const [nx, ny, nz] = dims;
  const nVoxels = nx * ny * nz;
  const samplesPerAxis = dims.map((n) => (partialVolume && n > 1 ? SUPERSAMPLING : 1)) as [
    number,
    number,
    number,
  ];
  // Sub-sample positions in units of the half field of view (u in [-1, 1]); a single-voxel axis is
  // the central plane of the 3-D anatomy.
  const halfExtent = dims.map((n, a) => (n * spacing[a]!) / 2);
  const positions = dims.map((n, a) =>
    subSamplePositions(n, samplesPerAxis[a]!, spacing[a]!, halfExtent[a]!),
  );

  const { brain, ventricles } = anatomy(resolved, positions, halfExtent);
  const gm2 = GM_SCALE * GM_SCALE;
  const wm2 = WM_SCALE * WM_SCALE;
  const [sx, sy, sz] = samplesPerAxis;
  const [brainX, brainY, brainZ] = brain;

  const labels = new Uint8Array(nVoxels);
  const fractions = new Float32Array(nVoxels * 3);
  const mask = new Uint8Array(nVoxels);
  const counts = new Int32Array(4);
  let v = 0;
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, v++) {
        counts.fill(0);
        for (let c = 0; c < sz; c++) {
          const zIndex = k * sz + c;
          for (let b = 0; b < sy; b++) {
            const yIndex = j * sy + b;
            const brainYZ = brainZ[zIndex]! + brainY[yIndex]!;
            for (let a = 0; a < sx; a++) {
              const xIndex = i * sx + a;
              const q = brainYZ + brainX[xIndex]!;
              if (q > 1) {
                counts[0]!++;
                continue;
              }
              let inVentricle = false;
              for (const [vx, vy, vz] of ventricles) {
                if (vx[xIndex]! + vy[yIndex]! + vz[zIndex]! <= 1) inVentricle = true;
              }
              if (inVentricle || q > gm2) counts[1]!++;
              else if (q > wm2) counts[2]!++;
              else counts[3]!++;
            }
          }
        }
        let label = 0;
        for (let t = 1; t < 4; t++) if (counts[t]! > counts[label]!) label = t;
        labels[v] = label;
        if (label === 0) continue;
        mask[v] = 1;
        const tissue = counts[1]! + counts[2]! + counts[3]!;
        fractions[3 * v] = counts[1]! / tissue;
        fractions[3 * v + 1] = counts[2]! / tissue;
        fractions[3 * v + 2] = counts[3]! / tissue;
      }
    }
  }

  const data = renderIntensities(resolved, fractions, mask, halfExtent);
  addArtefact(resolved, data, labels);
  return { image: phantomVolume(resolved, data), labels, fractions, mask, options: resolved };
}

/**
 * Positions of the sub-samples along one axis in units of the half field of view: voxel i's
 * sub-sample s sits at world (i + (s + 0.5) / S - 0.5 - (n - 1) / 2) * spacing mm.
 */
function subSamplePositions(n: number, samples: number, spacing: number, halfExtent: number): Float64Array {
  const positions = new Float64Array(n * samples);
  for (let i = 0; i < n; i++) {
    for (let s = 0; s < samples; s++) {
      positions[i * samples + s] = ((i + (s + 0.5) / samples - 0.5 - (n - 1) / 2) * spacing) / halfExtent;
    }
  }
  return positions;
}

/** Per-axis terms of one quadric: ((u - centre) / semiAxis)² at every sub-sample position. */
function quadricTerms(
  positions: Float64Array[],
  centre: readonly number[],
  semiAxes: readonly number[],
): QuadricTerms {
  return [0, 1, 2].map((a) =>
    positions[a]!.map((u) => ((u - centre[a]!) / semiAxes[a]!) ** 2),
  ) as QuadricTerms;
}

/** The brain's outer boundary and the ventricles of the chosen shape, as quadric terms. */
function anatomy(
  options: ResolvedPhantomOptions,
  positions: Float64Array[],
  halfExtent: number[],
): { brain: QuadricTerms; ventricles: QuadricTerms[] } {
  const { shape } = options;
  switch (shape) {
    case 'ellipsoids':
      return {
        brain: quadricTerms(positions, [0, 0, 0], BRAIN_SEMI_AXES),
        ventricles: VENTRICLES.map(({ centre, semiAxes }) => quadricTerms(positions, centre, semiAxes)),
      };
    case 'shells': {
      // A sphere in millimetres: its radius in each axis's half-field-of-view units differs.
      const extents = halfExtent.filter((_, a) => options.dims[a]! > 1);
      const radiusMm = SHELL_RADIUS * Math.min(...extents);
      const semiAxes = halfExtent.map((h) => radiusMm / h);
      return { brain: quadricTerms(positions, [0, 0, 0], semiAxes), ventricles: [] };
    }
    default: {
      const unknown: never = shape;
      throw new RangeError(`shape must be "ellipsoids" or "shells", got ${JSON.stringify(unknown)}`);
    }
  }
}

/** Voxel values: bias · (fraction-weighted tissue intensities), plus noise, inside the brain only. */
function renderIntensities(
  options: ResolvedPhantomOptions,
  fractions: Float32Array,
  mask: Uint8Array,
  halfExtent: number[],
): Float32Array {
  const { dims, spacing, noise, noiseLevel, bias, intensities, integer, seed } = options;
  const [nx, ny, nz] = dims;
  const data = new Float32Array(nx * ny * nz);
  const random = createRandom(seed, 0);
  const sd = noiseLevel * intensities.wm;
  // Voxel-centre positions in half-field-of-view units, for the bias field.
  const centres = dims.map((n, a) => subSamplePositions(n, 1, spacing[a]!, halfExtent[a]!));
  const [ux, uy, uz] = centres as [Float64Array, Float64Array, Float64Array];
  let v = 0;
  for (let k = 0; k < nz; k++) {
    const zFactor = Math.cos((Math.PI * uz[k]!) / 2);
    for (let j = 0; j < ny; j++) {
      const yTerm = 0.75 * Math.sin((Math.PI * uy[j]!) / 2);
      for (let i = 0; i < nx; i++, v++) {
        if (!mask[v]) continue;
        const field = bias === 0 ? 1 : 1 + bias * (yTerm + 0.25 * Math.sin((Math.PI * ux[i]!) / 2) * zFactor);
        const signal =
          field *
          (fractions[3 * v]! * intensities.csf +
            fractions[3 * v + 1]! * intensities.gm +
            fractions[3 * v + 2]! * intensities.wm);
        let value = signal;
        if (sd > 0) {
          switch (noise) {
            case 'gaussian':
              value = signal + sd * random.nextNormal();
              break;
            case 'rician': {
              const real = signal + sd * random.nextNormal();
              const imaginary = sd * random.nextNormal();
              value = Math.sqrt(real * real + imaginary * imaginary);
              break;
            }
            default: {
              const unknown: never = noise;
              throw new RangeError(`noise must be "gaussian" or "rician", got ${JSON.stringify(unknown)}`);
            }
          }
        }
        data[v] = integer ? Math.min(INT16_MAX, Math.max(0, Math.round(value))) : value;
      }
    }
  }
  return data;
}

/** Wraps the data in a volume with a plain RAS geometry centred on the world origin. */
function phantomVolume(options: ResolvedPhantomOptions, data: Float32Array): Volume {
  const { dims, spacing, integer } = options;
  const [sx, sy, sz] = spacing;
  // (1 - n) rather than -(n - 1), so that a single-voxel axis has offset +0, not -0.
  const offset: [number, number, number] = [
    ((1 - dims[0]) * sx) / 2,
    ((1 - dims[1]) * sy) / 2,
    ((1 - dims[2]) * sz) / 2,
  ];
  const affine = [
    [sx, 0, 0, offset[0]],
    [0, sy, 0, offset[1]],
    [0, 0, sz, offset[2]],
    [0, 0, 0, 1],
  ];
  return {
    data,
    dims: [...dims],
    spacing: [...spacing],
    affine,
    geometry: {
      qformCode: 2,
      sformCode: 2,
      quaternion: [0, 0, 0],
      qoffset: [...offset],
      pixdim: [1, sx, sy, sz, 0, 0, 0, 0],
      srow: [[...affine[0]!], [...affine[1]!], [...affine[2]!]],
      xyztUnits: 2, // NIFTI_UNITS_MM
    },
    source: {
      path: 'phantom',
      format: 'nifti-1',
      datatype: integer ? 'int16' : 'float32',
      nVolumes: 1,
      volumeIndex: 0,
    },
  };
}
