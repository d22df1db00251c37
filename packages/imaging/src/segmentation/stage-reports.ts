/**
 * What each stage of a segmentation reports: its convergence, log-likelihood trace and warnings,
 * and what robust estimation did.
 */
import type { ChannelRobustness } from './robust-intensities.ts';

/** How one EM stage went. */
export interface StageReport {
  converged: boolean;
  stopReason: 'tolerance' | 'labels-stable' | 'max-iterations';
  nIter: number;
  meanLogLikelihood: number;
  logLikelihoodTrace: number[];
  strategy: string;
  /** Final mean log-likelihood of each start (restarts, or candidate starts). */
  initScores: number[];
  warnings: string[];
}

/** What robust estimation found and did. */
export interface RobustReport {
  channels: ChannelRobustness[];
  /** Voxels left out of the estimates (spikes and winsorised voxels). */
  excluded: number;
  /** Voxels the outlier class took (inlier probability below 1/2); still labelled. */
  outliers: number;
}

export function partialVolumeReport(fit: Omit<StageReport, 'strategy' | 'initScores'>): StageReport {
  return {
    converged: fit.converged,
    stopReason: fit.stopReason,
    nIter: fit.nIter,
    meanLogLikelihood: fit.meanLogLikelihood,
    logLikelihoodTrace: fit.logLikelihoodTrace,
    strategy: 'tabulated',
    initScores: [],
    warnings: fit.warnings,
  };
}

export function gaussianReport(fit: StageReport, shift: number): StageReport {
  return {
    converged: fit.converged,
    stopReason: fit.stopReason,
    nIter: fit.nIter,
    meanLogLikelihood: fit.meanLogLikelihood + shift,
    logLikelihoodTrace: fit.logLikelihoodTrace.map((v) => v + shift),
    strategy: fit.strategy,
    initScores: fit.initScores,
    warnings: fit.warnings,
  };
}

/**
 * Reports of consecutive fits (the start, then bias-correction rounds) as one stage. The rounds'
 * fixed iteration counts are the schedule, not a failure to converge: their "did not converge"
 * warnings are dropped, and the stage converged when its first fit did.
 */
export function mergeReports(reports: StageReport[]): StageReport {
  const first = reports[0]!;
  const last = reports[reports.length - 1]!;
  return {
    ...last,
    converged: first.converged,
    stopReason: first.stopReason,
    nIter: reports.reduce((sum, report) => sum + report.nIter, 0),
    logLikelihoodTrace: reports.flatMap((report, index) =>
      // a warm start's first value repeats the previous fit's last
      index === 0 ? report.logLikelihoodTrace : report.logLikelihoodTrace.slice(1),
    ),
    initScores: first.initScores,
    warnings: [
      ...new Set(
        [first, ...reports.slice(1)].flatMap((r, index) =>
          index === 0 ? r.warnings : r.warnings.filter((w) => !/did not converge/.test(w)),
        ),
      ),
    ],
  };
}

/** The report of a stage that fitted nothing: the model's mean log-likelihood on the data. */
export function fixedReport(meanLogLikelihood: number): StageReport {
  return {
    converged: true,
    stopReason: 'tolerance',
    nIter: 0,
    meanLogLikelihood,
    logLikelihoodTrace: [meanLogLikelihood],
    strategy: 'direct',
    initScores: [],
    warnings: [],
  };
}
