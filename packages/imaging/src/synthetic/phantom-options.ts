/**
 * The options of {@link generatePhantom} (phantom.ts): the anatomy's shape, noise, bias, partial
 * volume, tissue intensities and artefacts, their defaults, and the one place they are checked.
 */
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

/** Merges the defaults and validates, with expected-versus-got messages. */
export function resolvePhantomOptions(options: PhantomOptions): ResolvedPhantomOptions {
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
