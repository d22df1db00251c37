/** What the end-to-end benchmark keeps in bench-results/cli.json: inputs, process runs, medians, ratios. */

import type { GitRevision, MachineInfo } from './measure.ts';
import type { PairedRatio } from './paired-ratio.ts';

/** Who ran. */
export type EndToEndTool = 'mixseg' | 'sklearn' | 'dipy';

/** One input volume of the benchmark. */
export interface EndToEndInput {
  id: '2mm' | '1mm';
  name: string;
  path: string;
  mask?: string;
}

/** One process (or batch) as GNU time saw it. */
export interface ProcessRun {
  repetition: number;
  seconds: number;
  /** Peak RSS of the process (GNU time %M: the largest single process of a Python pool). */
  peakRssMiB: number | undefined;
  /** User + system CPU seconds of the process and its waited-for children. */
  cpuSeconds: number | undefined;
  exitCode: number | null;
  loadAverage: number;
  error?: string;
}

/** One tool on one input, all repetitions. */
export interface SingleResult {
  input: EndToEndInput['id'];
  tool: EndToEndTool;
  runs: ProcessRun[];
  medianSeconds: number;
  medianPeakRssMiB: number;
  medianCpuPercent: number;
}

/** mixseg / peer, per repetition, on one input. */
export interface EndToEndRatio {
  input: EndToEndInput['id'];
  peer: EndToEndTool;
  time: PairedRatio;
  peak: PairedRatio;
}

/** One batch run. */
export interface BatchResult {
  tool: EndToEndTool;
  jobs: number;
  run: ProcessRun;
  volumesPerMinute: number;
}

/** What bench-results/cli.json holds. */
export interface CliOutput {
  benchmark: 'cli';
  mode: 'quick' | 'full';
  machine: MachineInfo;
  git: GitRevision;
  gnuTime: boolean;
  peers: { sklearn: boolean; dipy: boolean; dipyRequested: boolean };
  repetitions: number;
  inputs: EndToEndInput[];
  single: SingleResult[];
  ratios: EndToEndRatio[];
  batch: {
    size: number;
    input: EndToEndInput['id'];
    results: BatchResult[];
    /** batch seconds with --jobs 1 / with --jobs 2, per tool. */
    speedUps: Partial<Record<EndToEndTool, number>>;
    /** mixseg / peer batch seconds, per --jobs (one pair each). */
    ratios: { peer: EndToEndTool; jobs: number; time: number }[];
  };
  notes: string[];
  methodology: Record<string, string>;
  totalSeconds: number;
}
