/**
 * Child process of the core EM benchmark: one @mixseg/core contestant on one data file, in a
 * process of its own so that its peak resident set size is its own.
 *
 * Usage: node --import tsx src/worker-core-em.ts '<WorkerConfig as JSON>' (config.coreModule: the
 * file:// URL of the @mixseg/core copy to benchmark, normally the run's snapshot).
 *
 * Order of work: baseline RSS -> read the data file (and build the per-voxel prior) -> RSS ->
 * warm-up fit on a small slice (JIT) -> timed fit of maxIter iterations -> peak RSS (VmHWM) -> timed fit
 * with maxIter 0 (setup plus one E-step, for the subtraction cross-check) -> one JSON line.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type * as Core from '@mixseg/core';
import type { GaussianMixtureOptions } from '@mixseg/core';
import type { WorkerConfig, WorkerResult } from './core-em-types.ts';
import { intervals, median, procStatus } from './measure.ts';

/** Reads raw little-endian float32 samples straight into a Float32Array (no intermediate copy). */
function readFloat32File(path: string, expectedLength: number): Float32Array {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size !== expectedLength * 4) {
      throw new RangeError(`${path} holds ${size} bytes, expected ${expectedLength * 4}`);
    }
    const data = new Float32Array(expectedLength);
    const bytes = new Uint8Array(data.buffer);
    let offset = 0;
    while (offset < bytes.length) {
      const read = readSync(fd, bytes, offset, Math.min(bytes.length - offset, 1 << 26), offset);
      if (read <= 0) throw new Error(`unexpected end of ${path} at byte ${offset}`);
      offset += read;
    }
    return data;
  } finally {
    closeSync(fd);
  }
}

/**
 * A smooth, non-uniform per-voxel prior, N x K: each component's prior varies slowly along the
 * sample index (as a spatial atlas would along a scan line), between 0.1 and 0.9, never zero.
 */
function smoothPrior(nSamples: number, nComponents: number): Float32Array {
  const prior = new Float32Array(nSamples * nComponents);
  for (let i = 0; i < nSamples; i++) {
    const phase = (2 * Math.PI * i) / 20011;
    for (let k = 0; k < nComponents; k++) {
      prior[i * nComponents + k] = 0.5 + 0.4 * Math.sin(phase + (2 * Math.PI * k) / nComponents);
    }
  }
  return prior;
}

async function main(): Promise<void> {
  const argument = process.argv[2];
  if (!argument) throw new Error('usage: worker-core-em.ts <config JSON>');
  const config = JSON.parse(argument) as WorkerConfig;
  // The run's frozen copy of the core, not the live package (which may be edited meanwhile).
  const { fitGaussianMixture } = (await import(config.coreModule)) as typeof Core;
  const K = config.initialParameters.means.length;

  const rssBeforeDataBytes = process.memoryUsage().rss;
  const maxRssBeforeDataKiB = process.resourceUsage().maxRSS;
  const vmHwmBeforeDataKiB = procStatus()?.vmHwmKiB;
  const data = readFloat32File(config.file, config.nSamples * config.nFeatures);
  const prior = config.withPrior ? smoothPrior(config.nSamples, K) : undefined;
  const rssAfterDataBytes = process.memoryUsage().rss;

  const samples = { data, nSamples: config.nSamples, nFeatures: config.nFeatures };
  const baseOptions: GaussianMixtureOptions = {
    nComponents: K,
    covarianceType: config.covarianceType,
    strategy: config.strategy,
    initialParameters: config.initialParameters,
    regCovar: config.regCovar,
    tol: 0,
  };

  // Warm-up on a small slice so that the timed fit does not pay for compilation.
  const warmN = Math.min(config.warmUpSamples, config.nSamples);
  fitGaussianMixture(
    { data: data.subarray(0, warmN * config.nFeatures), nSamples: warmN, nFeatures: config.nFeatures },
    { ...baseOptions, maxIter: 3, ...(prior ? { prior: prior.subarray(0, warmN * K) } : {}) },
  );

  const stamps: number[] = [];
  const fitStart = performance.now();
  const fit = fitGaussianMixture(samples, {
    ...baseOptions,
    maxIter: config.maxIter,
    ...(prior ? { prior } : {}),
    onIteration: () => {
      stamps.push(performance.now());
    },
  });
  const fitMs = performance.now() - fitStart;
  const maxRssAfterFitKiB = process.resourceUsage().maxRSS;
  const vmHwmAfterFitKiB = procStatus()?.vmHwmKiB;

  const fit0Start = performance.now();
  const fit0 = fitGaussianMixture(samples, { ...baseOptions, maxIter: 0, ...(prior ? { prior } : {}) });
  const fit0Ms = performance.now() - fit0Start;

  const iterationMs = intervals(stamps);
  const result: WorkerResult = {
    contestant: config.contestant,
    covarianceType: config.covarianceType,
    requestedStrategy: config.strategy,
    usedStrategy: fit.strategy,
    withPrior: config.withPrior,
    maxIter: config.maxIter,
    nIter: fit.nIter,
    stopReason: fit.stopReason,
    iterationCallbacks: stamps.length,
    iterationMs,
    medianIterationMs: median(iterationMs),
    fitMs,
    fit0Ms,
    fit0NIter: fit0.nIter,
    subtractedIterationMs: (fitMs - fit0Ms) / config.maxIter,
    firstCallbackMs: stamps.length > 0 ? stamps[0]! - fitStart : Number.NaN,
    logLikelihoodTrace: fit.logLikelihoodTrace,
    means: fit.model.means,
    weights: fit.model.weights,
    warnings: fit.warnings,
    nEvents: fit.events.length,
    inputBytes: data.byteLength,
    priorBytes: prior?.byteLength ?? 0,
    rssBeforeDataBytes,
    rssAfterDataBytes,
    peakSource: vmHwmAfterFitKiB === undefined ? 'getrusage' : 'VmHWM',
    peakRssAfterFitKiB: vmHwmAfterFitKiB ?? maxRssAfterFitKiB,
    peakRssEndKiB: procStatus()?.vmHwmKiB ?? process.resourceUsage().maxRSS,
    vmHwmBeforeDataKiB: vmHwmBeforeDataKiB ?? Number.NaN,
    maxRssBeforeDataKiB,
    maxRssAfterFitKiB,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

await main();
