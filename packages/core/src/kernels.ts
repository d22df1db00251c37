/**
 * Specialised E-step kernels. The fused pass does a few dozen arithmetic operations per sample;
 * written as loops over K components and D features, V8 spends more time on the loops and the
 * scratch arrays than on the arithmetic. So for each (K, D, options) the pass is generated as
 * source code with the component loop and the feature loops unrolled and every parameter and
 * accumulator held in a local variable, compiled once with `new Function`, and cached. The
 * generated code is log-densities.ts's two primitives (the log-densities and their log-sum-exp
 * normaliser) unrolled, plus the fused pass's bookkeeping, and calls the same exact log-domain
 * fallback; the tests check that it gives the primitives' responsibilities bit for bit. The
 * blocked loops in fused-pass.ts remain the fallback where code generation is not allowed (a page
 * whose Content Security Policy forbids it) or the unrolled code would be too large.
 */
import { expNonPositive } from './exp.ts';
import type { FloatArray } from './types.ts';

/** What a kernel is specialised for. */
export interface KernelShape {
  nComponents: number;
  nFeatures: number;
  /** Per-sample prior (N x K) in place of the mixing weights. */
  prior: boolean;
  /** Per-sample weights. */
  weighted: boolean;
  /** Write responsibilities (N x K) out. */
  responsibilities: boolean;
  /** Accumulate off-diagonal second moments (full and tied covariances). */
  fullSecondMoments: boolean;
  /** `direct`: densities computed per sample; `tabulated`: looked up per distinct value. */
  kind: 'direct' | 'tabulated';
}

/**
 * Arguments of a kernel call. `parameters` holds base_k (K: log-normaliser plus log-weight, or
 * without the log-weight under a prior), means (K x D) and precision Cholesky factors (K x D x D);
 * `moments` receives N_k (K), first moments (K x D) and second moments (K x D x D) about the
 * current means, added to what is there.
 */
export interface KernelArguments {
  data: FloatArray;
  nSamples: number;
  sampleWeights: FloatArray | undefined;
  prior: FloatArray | undefined;
  responsibilities: Float32Array | undefined;
  parameters: Float64Array;
  moments: Float64Array;
  /** tabulated only: bin of each sample, scaled densities (bins x K) and their sums (bins). */
  index?: Uint16Array | undefined;
  densities?: Float64Array | undefined;
  densitySums?: Float64Array | undefined;
  /** tabulated only: responsibilities accumulated per bin (bins x K), added to. */
  binResponsibilities?: Float64Array | undefined;
  /**
   * Exact log-domain fallback for sample i: writes normalised responsibilities into `out` and
   * returns log sum_k prior_ik N_k(x_i) minus log sum_k prior_ik.
   */
  fallback: (sample: number, out: Float64Array) => number;
}

/** Returns [sum of maxima and weighted terms, log of the running products, sum of weights]. */
export type Kernel = (args: KernelArguments) => [number, number, number];

/**
 * Largest generated source, in characters, that is compiled: K = 68 components at D = 1, 37 at
 * D = 2, 23 at D = 3, 16 at D = 4, 5 at D = 8 (a little fewer with a prior and outputs).
 * Measured (one E/M pass, 1e5 samples, median of 9 after warm-up, Node 20 / V8 11.3): kernels beat
 * the blocked loops 1.5-4.5x below this size, take V8 seconds to optimise above ~40 000 characters,
 * and lose above ~60 000 (K = 254, D = 1: 6x slower).
 */
const MAX_SOURCE_LENGTH = 32_000;

const cache = new Map<string, Kernel | null>();
let codeGenerationAllowed: boolean | undefined;

/** The kernel for a shape, or undefined when the blocked loops must be used. */
export function kernelFor(shape: KernelShape): Kernel | undefined {
  if (codeGenerationAllowed === false || kernelsDisabled) return undefined;
  const key = JSON.stringify(shape);
  let kernel = cache.get(key);
  if (kernel === undefined) {
    const source = kernelSource(shape);
    kernel = source.length <= MAX_SOURCE_LENGTH ? compile(source) : null;
    cache.set(key, kernel);
  }
  return kernel ?? undefined;
}

/** Compiles a kernel's source, or returns null where code generation is refused (an EvalError). */
function compile(source: string): Kernel | null {
  try {
    const factory = new Function('expNonPositive', source) as (exp: typeof expNonPositive) => Kernel;
    codeGenerationAllowed = true;
    return factory(expNonPositive);
  } catch (error) {
    if (!(error instanceof EvalError)) throw error;
    codeGenerationAllowed = false;
    return null;
  }
}

let kernelsDisabled = false;
/** Forces the blocked loops (for tests that compare the two implementations). */
export function setGeneratedKernelsEnabled(enabled: boolean): void {
  kernelsDisabled = !enabled;
}

/** Source of the body of a factory `(expNonPositive) => kernel`. */
export function kernelSource(shape: KernelShape): string {
  const { nComponents: K, nFeatures: D, prior, weighted, responsibilities, fullSecondMoments, kind } = shape;
  const ks = range(K);
  const ds = range(D);
  const pairs = (k: number) =>
    ds.flatMap((p) => (fullSecondMoments ? ds.filter((q) => q >= p) : [p]).map((q) => [k, p, q] as const));
  const lines: string[] = [];
  const emit = (line: string) => lines.push(line);

  emit('return function kernel(args) {');
  emit(
    'const { data, nSamples, sampleWeights, prior, responsibilities, parameters, moments, fallback } = args;',
  );
  if (kind === 'tabulated') emit('const { index, densities, densitySums, binResponsibilities } = args;');
  // parameters into locals
  let offset = 0;
  for (const k of ks) emit(`const b${k} = parameters[${offset++}];`);
  for (const k of ks) for (const d of ds) emit(`const m${k}_${d} = parameters[${offset++}];`);
  for (const k of ks) {
    for (const p of ds) {
      for (const q of ds) {
        if (q >= p) emit(`const u${k}_${p}_${q} = parameters[${offset}];`);
        offset++;
      }
    }
  }
  // accumulators
  const accumulators = ks.flatMap((k) => [
    `n${k}`,
    ...ds.map((d) => `f${k}_${d}`),
    ...pairs(k).map(([, p, q]) => `s${k}_${p}_${q}`),
  ]);
  if (kind === 'direct') emit(`let ${accumulators.map((a) => `${a} = 0`).join(', ')};`);
  emit('let maxSum = 0, weightedLog = 0, product = 1, priorProduct = 1, logSum = 0, sumWeights = 0;');
  emit(`const fb = new Float64Array(${K});`);
  emit('for (let i = 0; i < nSamples; i++) {');
  if (kind === 'direct') {
    for (const d of ds) emit(`const x${d} = data[i * ${D} + ${d}];`);
    for (const k of ks) {
      for (const d of ds) emit(`const d${k}_${d} = x${d} - m${k}_${d};`);
      const terms = ds.map((j) => {
        const y = ds
          .filter((d) => d <= j)
          .map((d) => `d${k}_${d} * u${k}_${d}_${j}`)
          .join(' + ');
        emit(`const y${k}_${j} = ${y};`);
        return `y${k}_${j} * y${k}_${j}`;
      });
      emit(`const a${k} = b${k} - 0.5 * (${terms.join(' + ')});`);
    }
    emit('let max = a0;');
    for (const k of ks.slice(1)) emit(`if (a${k} > max) max = a${k};`);
    for (const k of ks) emit(`let e${k} = expNonPositive(a${k} - max);`);
  } else {
    emit('const bin = index[i];');
    emit(`const o = bin * ${K};`);
    for (const k of ks) emit(`let e${k} = densities[o + ${k}];`);
  }
  if (prior) {
    for (const k of ks) emit(`const p${k} = prior[i * ${K} + ${k}];`);
    for (const k of ks) emit(`e${k} *= p${k};`);
    emit(`const pSum = ${ks.map((k) => `p${k}`).join(' + ')};`);
  }
  if (prior || kind === 'direct') emit(`const s = ${ks.map((k) => `e${k}`).join(' + ')};`);
  else emit('const s = densitySums[bin];');
  emit(`const w = ${weighted ? 'sampleWeights[i]' : '1'};`);
  emit('sumWeights += w;');
  emit('let inverse;');
  emit(`if (s > 1e-100 && s < Infinity${prior ? ' && pSum > 0 && pSum < Infinity' : ''}) {`);
  emit('inverse = 1 / s;');
  // log-likelihood: maxima were counted per bin by the caller in the tabulated case
  const maxTerm = kind === 'direct' ? 'max + ' : '';
  if (weighted) {
    emit(`weightedLog += w * (${maxTerm}Math.log(s)${prior ? ' - Math.log(pSum)' : ''});`);
  } else {
    if (kind === 'direct') emit('maxSum += max;');
    emit('product *= s;');
    emit('if (product < 1e-150 || product > 1e150) { logSum += Math.log(product); product = 1; }');
    if (prior) {
      emit('priorProduct *= pSum;');
      emit(
        'if (priorProduct < 1e-150 || priorProduct > 1e150) { logSum -= Math.log(priorProduct); priorProduct = 1; }',
      );
    }
  }
  emit('} else {');
  // The exact fallback returns the full log-likelihood term; in the tabulated case the bin's
  // maximum is already counted, so the caller's fallback subtracts it.
  emit('weightedLog += w * fallback(i, fb);');
  for (const k of ks) emit(`e${k} = fb[${k}];`);
  emit('inverse = 1;');
  emit('}');
  if (responsibilities) for (const k of ks) emit(`responsibilities[i * ${K} + ${k}] = e${k} * inverse;`);
  emit('const scale = w * inverse;');
  if (kind === 'direct') {
    for (const k of ks) {
      emit(`const r${k} = e${k} * scale;`);
      emit(`n${k} += r${k};`);
      for (const d of ds) emit(`f${k}_${d} += r${k} * d${k}_${d};`);
      for (const [, p, q] of pairs(k)) emit(`s${k}_${p}_${q} += r${k} * d${k}_${p} * d${k}_${q};`);
    }
  } else {
    for (const k of ks) emit(`binResponsibilities[o + ${k}] += e${k} * scale;`);
  }
  emit('}');
  if (kind === 'direct') {
    // write the accumulators back in the moments layout: N_k, first (K x D), second (K x D x D)
    for (const k of ks) emit(`moments[${k}] += n${k};`);
    for (const k of ks) for (const d of ds) emit(`moments[${K + k * D + d}] += f${k}_${d};`);
    for (const k of ks) {
      for (const [, p, q] of pairs(k))
        emit(`moments[${K + K * D + k * D * D + p * D + q}] += s${k}_${p}_${q};`);
    }
  }
  emit('return [maxSum + weightedLog, logSum + Math.log(product) - Math.log(priorProduct), sumWeights];');
  emit('};');
  return lines.join('\n');
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
