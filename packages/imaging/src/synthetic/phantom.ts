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

/**
 * The anatomy: `ellipsoids` is an ellipsoidal brain (a WM core inside a GM ribbon inside a CSF
 * rim, plus two ventricle-like CSF ellipsoids in the WM); `shells` is the same layering as
 * concentric spheres, with no ventricles.
 */
export type PhantomShape = 'ellipsoids' | 'shells';

/**
 * The noise model: `gaussian` adds N(0, sd²) to the voxel value; `rician` is the magnitude of a
 * complex signal with N(0, sd²) noise on both channels (never negative, biased upward where the
 * signal is dark), as in magnitude MR images.
 */
export type PhantomNoise = 'gaussian' | 'rician';

/**
 * An artefact added after rendering, for testing robust estimation (the ground truth is unchanged):
 * `zeros` sets the CSF rim in the upper 38 % of the volume to exactly 0 (as inside a brain mask
 * larger than the skull-stripped image); `extreme-voxel` sets one WM voxel to 32 767 (the int16 maximum);
 * `bright-cluster` multiplies a compact WM region holding 3 % of the brain by 1.6 (a hyperintense
 * lesion or vessel cluster); `clipped-maximum` clips the brightest 3 % of the brain to the 97th
 * percentile (a saturated intensity range).
 */
export type PhantomArtefact = 'none' | 'zeros' | 'extreme-voxel' | 'bright-cluster' | 'clipped-maximum';

/** Mean intensities of the three tissues (arbitrary scanner units); the background is 0. */
export interface TissueIntensities {
  csf: number;
  gm: number;
  wm: number;
}

/** Options of {@link generatePhantom}; every field has a default. */
export interface PhantomOptions {
  /** [nx, ny, nz] voxels, nx and ny at least 2; [nx, ny, 1] is a 2-D phantom. Default [96, 96, 72]. */
  dims?: readonly [number, number, number];
  /** Voxel size in mm, [sx, sy, sz], each > 0. Default [1.5, 1.5, 1.5]. */
  spacing?: readonly [number, number, number];
  /** Default 'ellipsoids'. */
  shape?: PhantomShape;
  /** Default 'gaussian'. */
  noise?: PhantomNoise;
  /**
   * Noise standard deviation as a fraction of the WM intensity, in [0, 0.5]. Default 0.03
   * ("moderate"); 0 gives a noise-free image.
   */
  noiseLevel?: number;
  /**
   * Amplitude a of the multiplicative bias field, in [0, 1): the field is 1 + a·s(u) with
   * s(u) = 0.75 sin(π u_y / 2) + 0.25 sin(π u_x / 2) cos(π u_z / 2), u the position divided by the
   * half field of view along each axis (so |s| <= 1 and the field stays within 1 ± a, varying mostly
   * from posterior to anterior). Default 0: no bias.
   */
  bias?: number;
  /**
   * Supersample each voxel 3 x 3 x 3 (3 x 3 in 2-D) so that boundary voxels get partial-volume
   * fractions and mixed intensities; false samples the voxel centre only (crisp). Default true.
   */
  partialVolume?: boolean;
  /** Tissue intensities, each finite and >= 0; missing ones take the defaults {csf: 300, gm: 650, wm: 850}. */
  intensities?: Partial<TissueIntensities>;
  /** Round to integers and clamp to [0, 32767] like a scanner's int16. Default true. */
  integer?: boolean;
  /** Seed of the noise (a safe integer). The anatomy does not depend on it. Default 0. */
  seed?: number;
  /** An artefact added to the image (the labels stay the anatomy's). Default 'none'. */
  artefact?: PhantomArtefact;
}

/** {@link PhantomOptions} with every default filled in. */
export interface ResolvedPhantomOptions {
  dims: [number, number, number];
  spacing: [number, number, number];
  shape: PhantomShape;
  noise: PhantomNoise;
  noiseLevel: number;
  bias: number;
  partialVolume: boolean;
  intensities: TissueIntensities;
  integer: boolean;
  seed: number;
  artefact: PhantomArtefact;
}

/** A synthetic image and its ground truth, all on the image's grid (x fastest). */
export interface Phantom {
  /**
   * The image: Float32Array data (integer-valued when `options.integer`), a plain RAS affine
   * diag(spacing) with the world origin at the centre of the volume, sform and qform code 2
   * (identity quaternion, qfac 1), units mm; source path 'phantom', datatype 'int16' or 'float32'.
   */
  image: Volume;
  /**
   * Crisp ground truth, length nVoxels: 0 background, 1 CSF, 2 GM, 3 WM — the class (background
   * included) holding the most sub-samples of the voxel, the lower label on a tie.
   */
  labels: Uint8Array;
  /**
   * Partial-volume fractions, nVoxels x 3 voxel-major ([CSF, GM, WM] of voxel v at 3v..3v+2): the
   * share of each tissue among the voxel's brain sub-samples, summing to 1 where labels > 0 and all
   * 0 outside the brain.
   */
  fractions: Float32Array;
  /** 1 where labels > 0 (the brain), length nVoxels. */
  mask: Uint8Array;
  options: ResolvedPhantomOptions;
}

/** The defaults of {@link PhantomOptions}. */
export const DEFAULT_PHANTOM_OPTIONS: Readonly<ResolvedPhantomOptions> =
  Object.freeze<ResolvedPhantomOptions>({
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

/** Merges the defaults and validates, with expected-versus-got messages. */
function resolvePhantomOptions(options: PhantomOptions): ResolvedPhantomOptions {
  const defaults = DEFAULT_PHANTOM_OPTIONS;
  const dims = options.dims ?? defaults.dims;
  if (
    !Array.isArray(dims) ||
    dims.length !== 3 ||
    !dims.every((n) => Number.isInteger(n) && n >= 1) ||
    dims[0]! < 2 ||
    dims[1]! < 2
  ) {
    throw new RangeError(
      `dims must be three positive integers [nx, ny, nz] with nx, ny >= 2, got ${JSON.stringify(dims)}`,
    );
  }
  const spacing = options.spacing ?? defaults.spacing;
  if (!Array.isArray(spacing) || spacing.length !== 3 || !spacing.every((s) => Number.isFinite(s) && s > 0)) {
    throw new RangeError(`spacing must be three finite numbers > 0 (mm), got ${JSON.stringify(spacing)}`);
  }
  const shape = options.shape ?? defaults.shape;
  if (shape !== 'ellipsoids' && shape !== 'shells') {
    throw new RangeError(`shape must be "ellipsoids" or "shells", got ${JSON.stringify(shape)}`);
  }
  const noise = options.noise ?? defaults.noise;
  if (noise !== 'gaussian' && noise !== 'rician') {
    throw new RangeError(`noise must be "gaussian" or "rician", got ${JSON.stringify(noise)}`);
  }
  const noiseLevel = options.noiseLevel ?? defaults.noiseLevel;
  if (!(typeof noiseLevel === 'number' && noiseLevel >= 0 && noiseLevel <= 0.5)) {
    throw new RangeError(
      `noiseLevel must be a number in [0, 0.5] (a fraction of the WM intensity), got ${noiseLevel}`,
    );
  }
  const bias = options.bias ?? defaults.bias;
  if (!(typeof bias === 'number' && bias >= 0 && bias < 1)) {
    throw new RangeError(`bias must be a number in [0, 1), got ${bias}`);
  }
  const partialVolume = options.partialVolume ?? defaults.partialVolume;
  if (typeof partialVolume !== 'boolean') {
    throw new RangeError(`partialVolume must be a boolean, got ${JSON.stringify(partialVolume)}`);
  }
  const integer = options.integer ?? defaults.integer;
  if (typeof integer !== 'boolean') {
    throw new RangeError(`integer must be a boolean, got ${JSON.stringify(integer)}`);
  }
  const intensities = { ...defaults.intensities, ...options.intensities };
  for (const tissue of ['csf', 'gm', 'wm'] as const) {
    const value = intensities[tissue];
    if (!(typeof value === 'number' && Number.isFinite(value) && value >= 0)) {
      throw new RangeError(`intensities.${tissue} must be a finite number >= 0, got ${value}`);
    }
  }
  const seed = options.seed ?? defaults.seed;
  if (!Number.isSafeInteger(seed)) {
    throw new RangeError(`seed must be a safe integer, got ${seed}`);
  }
  const artefact = options.artefact ?? defaults.artefact;
  if (!PHANTOM_ARTEFACTS.includes(artefact)) {
    throw new RangeError(
      `artefact must be one of ${PHANTOM_ARTEFACTS.map((a) => `"${a}"`).join(', ')}, got ${JSON.stringify(artefact)}`,
    );
  }
  return {
    dims: [dims[0]!, dims[1]!, dims[2]!],
    spacing: [spacing[0]!, spacing[1]!, spacing[2]!],
    shape,
    noise,
    noiseLevel,
    bias,
    partialVolume,
    intensities,
    integer,
    seed,
    artefact,
  };
}

/** Every artefact {@link generatePhantom} can add. */
export const PHANTOM_ARTEFACTS: readonly PhantomArtefact[] = [
  'none',
  'zeros',
  'extreme-voxel',
  'bright-cluster',
  'clipped-maximum',
];

/** Adds the chosen artefact to the rendered image, in place (deterministic). */
function addArtefact(options: ResolvedPhantomOptions, data: Float32Array, labels: Uint8Array): void {
  const [nx, ny, nz] = options.dims;
  const nxy = nx * ny;
  switch (options.artefact) {
    case 'none':
      return;
    case 'zeros':
      for (let v = 0; v < data.length; v++) {
        if (labels[v] === 1 && Math.floor(v / nxy) > 0.62 * nz) data[v] = 0;
      }
      return;
    case 'extreme-voxel': {
      const v = labels.findIndex((label, index) => label === 3 && index >= data.length / 2);
      if (v >= 0) data[v] = 32767;
      return;
    }
    case 'bright-cluster': {
      let brain = 0;
      for (const label of labels) if (label > 0) brain++;
      const [cx, cy, cz] = [nx / 2, ny * 0.35, nz / 2];
      const white: { v: number; d: number }[] = [];
      for (let v = 0; v < labels.length; v++) {
        if (labels[v] !== 3) continue;
        const x = v % nx;
        const y = Math.floor(v / nx) % ny;
        const z = Math.floor(v / nxy);
        white.push({ v, d: (x - cx) ** 2 + (y - cy) ** 2 + (z - cz) ** 2 + v * 1e-12 });
      }
      white.sort((a, b) => a.d - b.d);
      const n = Math.min(white.length, Math.round(0.03 * brain));
      for (let j = 0; j < n; j++) {
        const v = white[j]!.v;
        data[v] = options.integer ? Math.round(data[v]! * 1.6) : data[v]! * 1.6;
      }
      return;
    }
    case 'clipped-maximum': {
      const values = Float32Array.from(data.filter((_, v) => labels[v]! > 0)).sort();
      const clip = values[Math.floor(0.97 * (values.length - 1))]!;
      for (let v = 0; v < data.length; v++) if (data[v]! > clip) data[v] = clip;
      return;
    }
    default:
      throw new RangeError(`unknown artefact ${options.artefact satisfies never}`);
  }
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
