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
 * One channel's bias field at each sample, from its intensities and the current classes:
 * `estimate(values, responsibilities, means, variances, out)`.
 * @param values the channel's (uncorrected) intensity of each sample, length N
 * @param responsibilities N x K, sample-major
 * @param means the K class means of this channel
 * @param variances the K class variances of this channel
 * @param out length N; receives b_i (> 0)
 */
export type BiasFieldEstimate = ((
  values: ArrayLike<number>,
  responsibilities: Float32Array,
  means: ArrayLike<number>,
  variances: ArrayLike<number>,
  out: Float64Array,
) => void) & {
  /**
   * The same estimate from each sample's expected bias-free intensity m_i and noise variance v_i
   * (a partial-volume voxel's are the fraction-weighted class means and variances): b solves
   * y_i = b_i m_i in weighted least squares, with weights w_i / v_i (w_i = 0 leaves a sample out).
   */
  fromExpectations: (
    values: ArrayLike<number>,
    expectedMeans: Float64Array,
    expectedVariances: Float64Array,
    weights: ArrayLike<number> | undefined,
    out: Float64Array,
  ) => void;
};

/**
 * A bias-field estimator for one grid: each sample's coarse cell and interpolation weights are
 * worked out once, so that each estimate (segment() runs one per channel and round) costs two
 * plain passes over the samples.
 */
export function biasFieldEstimator(grid: BiasFieldGrid, options: BiasFieldOptions = {}): BiasFieldEstimate {
  const fwhm = options.fwhm ?? DEFAULT_BIAS_FWHM_MM;
  if (!(fwhm > 0 && Number.isFinite(fwhm))) throw new RangeError(`bias fwhm must be > 0 mm, got ${fwhm}`);
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
  const coarseDims: Vector3 = [cx, cy, cz];
  const sigmas = grid.spacing.map((s, axis) => fwhm / 2.354820045 / (s * factor[axis]!)) as Vector3;

  // Per sample: its cell; the lower corner of its trilinear interpolation (at cell centres), the
  // fractions along x, y, z, and which axes step to a next cell (not at the last cell).
  const cellOf = new Uint32Array(N);
  const corners = new Uint32Array(N);
  const fractions = new Float32Array(3 * N);
  const steps = new Uint8Array(N);
  const axisTable = (n: number, f: number, cells: number) => {
    const lower = new Uint32Array(n);
    const fraction = new Float32Array(n);
    const step = new Uint8Array(n);
    for (let x = 0; x < n; x++) {
      const position = (x + 0.5) / f - 0.5;
      const x0 = Math.min(Math.max(Math.floor(position), 0), cells - 1);
      lower[x] = x0;
      fraction[x] = Math.min(Math.max(position - x0, 0), 1);
      step[x] = x0 + 1 < cells ? 1 : 0;
    }
    return { lower, fraction, step };
  };
  const tx = axisTable(nx, factor[0], cx);
  const ty = axisTable(ny, factor[1], cy);
  const tz = axisTable(nz, factor[2], cz);
  const nxy = nx * ny;
  for (let i = 0; i < N; i++) {
    const v = grid.voxelIndices[i]!;
    const z = Math.floor(v / nxy);
    const rest = v - z * nxy;
    const y = Math.floor(rest / nx);
    const x = rest - y * nx;
    cellOf[i] = Math.floor(x / factor[0]) + cx * (Math.floor(y / factor[1]) + cy * Math.floor(z / factor[2]));
    corners[i] = tx.lower[x]! + cx * (ty.lower[y]! + cy * tz.lower[z]!);
    fractions[3 * i] = tx.fraction[x]!;
    fractions[3 * i + 1] = ty.fraction[y]!;
    fractions[3 * i + 2] = tz.fraction[z]!;
    steps[i] = tx.step[x]! | (ty.step[y]! << 1) | (tz.step[z]! << 2);
  }
  const numerator = new Float64Array(nCells);
  const denominator = new Float64Array(nCells);
  const field = new Float64Array(nCells);
  const cxy = cx * cy;

  const fromClasses = (
    values: ArrayLike<number>,
    responsibilities: Float32Array,
    means: ArrayLike<number>,
    variances: ArrayLike<number>,
    out: Float64Array,
  ): void => {
    const K = means.length;
    const a = new Float64Array(K);
    const c = new Float64Array(K);
    for (let k = 0; k < K; k++) {
      const precision = 1 / variances[k]!;
      a[k] = means[k]! * precision;
      c[k] = means[k]! * means[k]! * precision;
    }
    numerator.fill(0);
    denominator.fill(0);
    for (let i = 0, row = 0; i < N; i++, row += K) {
      let sa = 0;
      let sc = 0;
      for (let k = 0; k < K; k++) {
        const r = responsibilities[row + k]!;
        sa += r * a[k]!;
        sc += r * c[k]!;
      }
      const cell = cellOf[i]!;
      numerator[cell]! += values[i]! * sa;
      denominator[cell]! += sc;
    }
    finish(out);
  };
  const fromExpectations = (
    values: ArrayLike<number>,
    expectedMeans: Float64Array,
    expectedVariances: Float64Array,
    weights: ArrayLike<number> | undefined,
    out: Float64Array,
  ): void => {
    numerator.fill(0);
    denominator.fill(0);
    for (let i = 0; i < N; i++) {
      const w = weights ? weights[i]! : 1;
      if (!(w > 0)) continue;
      const m = expectedMeans[i]!;
      const a = (w * m) / expectedVariances[i]!;
      const cell = cellOf[i]!;
      numerator[cell]! += values[i]! * a;
      denominator[cell]! += a * m;
    }
    finish(out);
  };
  const finish = (out: Float64Array): void => {
    gaussianSmooth(numerator, coarseDims, sigmas);
    gaussianSmooth(denominator, coarseDims, sigmas);
    for (let cell = 0; cell < nCells; cell++) {
      const d = denominator[cell]!;
      const n = numerator[cell]!;
      field[cell] = d > 0 && n > 0 ? n / d : Number.NaN;
    }
    // trilinear interpolation; the log of the geometric mean is accumulated as a running product
    // (one logarithm per ~200 samples instead of one each)
    let logSum = 0;
    let product = 1;
    let count = 0;
    for (let i = 0; i < N; i++) {
      const corner = corners[i]!;
      const step = steps[i]!;
      const dx = step & 1;
      const dy = ((step >> 1) & 1) * cx;
      const dz = (step >> 2) * cxy;
      const fx = fractions[3 * i]!;
      const fy = fractions[3 * i + 1]!;
      const fz = fractions[3 * i + 2]!;
      const v000 = field[corner]!;
      const v100 = field[corner + dx]!;
      const v010 = field[corner + dy]!;
      const v110 = field[corner + dx + dy]!;
      const v001 = field[corner + dz]!;
      const v101 = field[corner + dx + dz]!;
      const v011 = field[corner + dy + dz]!;
      const v111 = field[corner + dx + dy + dz]!;
      const y0 = v000 + fx * (v100 - v000) + fy * (v010 + fx * (v110 - v010) - v000 - fx * (v100 - v000));
      const y1 = v001 + fx * (v101 - v001) + fy * (v011 + fx * (v111 - v011) - v001 - fx * (v101 - v001));
      let b = y0 + fz * (y1 - y0);
      // a corner in a cell without data (NaN): interpolate over the defined corners only
      if (Number.isNaN(b)) b = interpolateDefined(field, corner, dx, dy, dz, fx, fy, fz);
      out[i] = b;
      if (b > 0) {
        product *= b;
        count++;
        if (product > 1e100 || product < 1e-100) {
          logSum += Math.log(product);
          product = 1;
        }
      }
    }
    logSum += Math.log(product);
    const scale = count > 0 ? Math.exp(-logSum / count) : 1;
    for (let i = 0; i < N; i++) out[i] = out[i]! > 0 ? out[i]! * scale : 1;
  };
  return Object.assign(fromClasses, { fromExpectations });
}

/**
 * One channel's bias field at each sample (a one-off {@link biasFieldEstimator}).
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
  biasFieldEstimator(grid, options)(values, responsibilities, means, variances, out);
}

/** Trilinear interpolation that skips undefined (NaN) corners, renormalising the weights. */
function interpolateDefined(
  field: Float64Array,
  corner: number,
  dx: number,
  dy: number,
  dz: number,
  fx: number,
  fy: number,
  fz: number,
): number {
  let sum = 0;
  let weightSum = 0;
  for (let index = 0; index < 8; index++) {
    const hx = index & 1;
    const hy = (index >> 1) & 1;
    const hz = index >> 2;
    const w = (hx ? fx : 1 - fx) * (hy ? fy : 1 - fy) * (hz ? fz : 1 - fz);
    const value = field[corner + hx * dx + hy * dy + hz * dz]!;
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

/**
 * The bias-corrected intensities, as the CLI's --save-restored writes them and the viewer's
 * histogram bins them: image / field where the field is positive, the image's value elsewhere (the
 * saved field is 0 outside the mask); float32, the length of `image`.
 */
export function correctedIntensities(image: ArrayLike<number>, field: ArrayLike<number>): Float32Array {
  if (field.length !== image.length) {
    throw new RangeError(`the bias field must have ${image.length} voxels, got ${field.length}`);
  }
  const corrected = new Float32Array(image.length);
  for (let v = 0; v < corrected.length; v++) {
    const f = field[v]!;
    corrected[v] = f > 0 ? image[v]! / f : image[v]!;
  }
  return corrected;
}
