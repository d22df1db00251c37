/**
 * Multiplicative bias-field estimation in the manner of Wells et al. (1996) and FSL FAST: given the
 * current responsibilities r_ik and class means mu_k and variances s_k^2 of one channel, the field b
 * that best explains y_i = b_i mu_k (weighted least squares over classes, locally smoothed) is
 *
 *     b_i = S[ y_i sum_k r_ik mu_k / s_k^2 ] / S[ sum_k r_ik mu_k^2 / s_k^2 ],
 *
 * where S is a Gaussian low-pass filter (FWHM in mm). Both sums are zero outside the mask, so the
 * ratio is a normalised convolution and needs no special edge handling. The smoothing runs on a
 * coarse grid (cells of about FWHM / 4) and is interpolated back trilinearly, which keeps the cost
 * at a few passes over the voxels. The field is scaled to geometric mean 1 over the samples, so
 * corrected intensities stay in the input's units.
 */
type Vector3 = [number, number, number];

export interface BiasFieldGrid {
  dims: Vector3;
  spacing: Vector3;
  /** Voxel index of each sample. */
  voxelIndices: Uint32Array;
}

export interface BiasFieldOptions {
  /** Full width at half maximum of the smoothing kernel in mm. Default 20 (FSL FAST's default). */
  fwhm?: number;
}

export const DEFAULT_BIAS_FWHM_MM = 20;

/**
 * One channel's bias field at each sample.
 * @param values the channel's (uncorrected) intensity of each sample, length N
 * @param responsibilities N x K, sample-major
 * @param means the K class means of this channel
 * @param variances the K class variances of this channel
 * @param out length N; receives b_i (> 0)
 */
export function estimateBiasField(
  grid: BiasFieldGrid,
  values: ArrayLike<number>,
  responsibilities: Float32Array,
  means: ArrayLike<number>,
  variances: ArrayLike<number>,
  out: Float64Array,
  options: BiasFieldOptions = {},
): void {
  const fwhm = options.fwhm ?? DEFAULT_BIAS_FWHM_MM;
  if (!(fwhm > 0 && Number.isFinite(fwhm))) throw new RangeError(`bias fwhm must be > 0 mm, got ${fwhm}`);
  const K = means.length;
  const N = grid.voxelIndices.length;
  const [nx, ny, nz] = grid.dims;
  // coarse cells of about fwhm / 4 mm per axis (at least one voxel)
  const factor = grid.spacing.map((s, axis) =>
    grid.dims[axis]! > 1 ? Math.max(1, Math.floor(fwhm / 4 / s)) : 1,
  ) as Vector3;
  const cx = Math.ceil(nx / factor[0]);
  const cy = Math.ceil(ny / factor[1]);
  const cz = Math.ceil(nz / factor[2]);
  const nCells = cx * cy * cz;
  const numerator = new Float64Array(nCells);
  const denominator = new Float64Array(nCells);
  const a = new Float64Array(K);
  const c = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    const precision = 1 / variances[k]!;
    a[k] = means[k]! * precision;
    c[k] = means[k]! * means[k]! * precision;
  }
  const nxy = nx * ny;
  for (let i = 0; i < N; i++) {
    const v = grid.voxelIndices[i]!;
    const z = Math.floor(v / nxy);
    const rest = v - z * nxy;
    const y = Math.floor(rest / nx);
    const x = rest - y * nx;
    const cell =
      Math.floor(x / factor[0]) + cx * (Math.floor(y / factor[1]) + cy * Math.floor(z / factor[2]));
    let sa = 0;
    let sc = 0;
    for (let k = 0; k < K; k++) {
      const r = responsibilities[i * K + k]!;
      sa += r * a[k]!;
      sc += r * c[k]!;
    }
    numerator[cell]! += values[i]! * sa;
    denominator[cell]! += sc;
  }
  const coarseDims: Vector3 = [cx, cy, cz];
  const sigmas = grid.spacing.map((s, axis) => fwhm / 2.354820045 / (s * factor[axis]!)) as Vector3;
  gaussianSmooth(numerator, coarseDims, sigmas);
  gaussianSmooth(denominator, coarseDims, sigmas);
  const field = new Float64Array(nCells);
  for (let cell = 0; cell < nCells; cell++) {
    const d = denominator[cell]!;
    const n = numerator[cell]!;
    field[cell] = d > 0 && n > 0 ? n / d : Number.NaN;
  }
  // trilinear interpolation at each voxel's position in cell coordinates (cell centres)
  let logSum = 0;
  let count = 0;
  for (let i = 0; i < N; i++) {
    const v = grid.voxelIndices[i]!;
    const z = Math.floor(v / nxy);
    const rest = v - z * nxy;
    const y = Math.floor(rest / nx);
    const x = rest - y * nx;
    const b = interpolate(field, coarseDims, [
      (x + 0.5) / factor[0] - 0.5,
      (y + 0.5) / factor[1] - 0.5,
      (z + 0.5) / factor[2] - 0.5,
    ]);
    out[i] = b;
    if (b > 0) {
      logSum += Math.log(b);
      count++;
    }
  }
  const scale = count > 0 ? Math.exp(-logSum / count) : 1;
  for (let i = 0; i < N; i++) out[i] = out[i]! > 0 ? out[i]! * scale : 1;
}

/** Trilinear interpolation that skips undefined (NaN) corners, renormalising the weights. */
function interpolate(field: Float64Array, dims: Vector3, position: Vector3): number {
  const [nx, ny, nz] = dims;
  const base = position.map((p, axis) => Math.min(Math.max(Math.floor(p), 0), dims[axis]! - 1));
  const t = position.map((p, axis) => Math.min(Math.max(p - base[axis]!, 0), 1));
  let sum = 0;
  let weightSum = 0;
  for (let corner = 0; corner < 8; corner++) {
    const ix = Math.min(base[0]! + (corner & 1), nx - 1);
    const iy = Math.min(base[1]! + ((corner >> 1) & 1), ny - 1);
    const iz = Math.min(base[2]! + ((corner >> 2) & 1), nz - 1);
    const w =
      (corner & 1 ? t[0]! : 1 - t[0]!) *
      ((corner >> 1) & 1 ? t[1]! : 1 - t[1]!) *
      ((corner >> 2) & 1 ? t[2]! : 1 - t[2]!);
    const value = field[ix + nx * (iy + ny * iz)]!;
    if (w > 0 && !Number.isNaN(value)) {
      sum += w * value;
      weightSum += w;
    }
  }
  return weightSum > 0 ? sum / weightSum : 1;
}

/** In-place separable Gaussian filter with zero padding; sigma in cells per axis. */
export function gaussianSmooth(data: Float64Array, dims: Vector3, sigmas: Vector3): void {
  const strides = [1, dims[0], dims[0] * dims[1]];
  for (let axis = 0; axis < 3; axis++) {
    const n = dims[axis]!;
    const sigma = sigmas[axis]!;
    if (n < 2 || !(sigma > 0)) continue;
    const radius = Math.min(n - 1, Math.ceil(3 * sigma));
    const kernel = new Float64Array(2 * radius + 1);
    for (let j = -radius; j <= radius; j++) kernel[j + radius] = Math.exp((-0.5 * j * j) / (sigma * sigma));
    const stride = strides[axis]!;
    const line = new Float64Array(n);
    const total = data.length;
    // every line along this axis starts at an index whose coordinate on the axis is 0
    for (let start = 0; start < total; start++) {
      if (Math.floor(start / stride) % n !== 0) continue;
      for (let j = 0; j < n; j++) line[j] = data[start + j * stride]!;
      for (let j = 0; j < n; j++) {
        let sum = 0;
        const lo = Math.max(0, j - radius);
        const hi = Math.min(n - 1, j + radius);
        for (let m = lo; m <= hi; m++) sum += kernel[m - j + radius]! * line[m]!;
        data[start + j * stride] = sum;
      }
    }
  }
}
