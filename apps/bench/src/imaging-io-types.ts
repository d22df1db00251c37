/**
 * What the imaging I/O benchmark exchanges and keeps: the children's configuration and one-line
 * JSON answers, each contestant's record, and the summaries bench-results/imaging-io.json holds.
 */
/** Where each contestant writes its outputs. */
export interface IoOutputs {
  labels: string;
  /** One 4-D file, volume k = class k. */
  probabilities: string;
  /** One 3-D file per class. */
  perClass: string[];
}

/** What the Node child is asked to do (passed as one JSON argument). */
export interface ImagingWorkerConfig {
  input: string;
  /** [nx, ny, nz] of the input, as the benchmark parent read it. */
  dims: [number, number, number];
  labelsFile: string;
  probabilitiesFile: string;
  nClasses: number;
  repetitions: number;
  outputs: IoOutputs;
}

/** What both children report (one JSON line on stdout); times in ms. */
export interface IoResult {
  /** 1 + repetitions reads: [0] is the first call in a fresh process (cold), the rest are warm. */
  readMs: number[];
  coldReadMs: number;
  medianWarmReadMs: number;
  /** Of the last read: float64 sum and count of nonzero voxels, shape, element type. */
  readChecksum: { sum: number; nonzero: number; shape: number[]; dtype: string };
  writeLabelsMs: number[];
  writeProbabilitiesMs: number[];
  /** Time to write all K per-class files (one sample per repetition). */
  writePerClassMs: number[];
  rssBeforeBytes: number;
  vmHwmBeforeKiB: number;
  rssAfterReadsBytes: number;
  /** Peak RSS after the reads, before the raw labels and probabilities are loaded. */
  vmHwmAfterReadsKiB: number;
  /** Peak RSS at the end (KiB). */
  peakRssKiB: number;
  peakSource: string;
}

/** What nibabel_io.py reports in "bench" mode. */
export interface NibabelResult extends Partial<IoResult> {
  available: boolean;
  error?: string;
  nibabelVersion?: string;
  numpyVersion?: string;
  python?: string;
  /** indexed_gzip version when installed (nibabel then uses it for .gz reads), else null. */
  indexedGzip?: string | null;
  defaultCompressLevel?: number;
  compressLevel?: number;
}

/** What nibabel_io.py reports in "verify" mode: every output of every tool, read back by nibabel. */
export interface VerifyResult {
  available: boolean;
  error?: string;
  tools?: Record<string, { ok: boolean; files: Record<string, unknown>[] }>;
}

/** Who ran: mixseg, nibabel at its default gzip level, nibabel at mixseg's. */
export type ContestantId = 'mixseg' | 'nibabel' | 'nibabel-matched';

/** One contestant: its child's outcome, files and medians. */
export interface ContestantRecord {
  id: ContestantId;
  label: string;
  /** gzip level used for the outputs (undefined: unknown). */
  gzipLevel: number | undefined;
  wallMs: number;
  result?: IoResult;
  error?: string;
  stderr?: string;
  /** nibabel only: versions and levels as the child reported them. */
  nibabel?: Omit<NibabelResult, keyof IoResult>;
  outputs: IoOutputs;
  files?: OutputFiles;
  summary?: ContestantSummary;
}

/** One output file: its size and the gzip header bytes that tell its level. */
export interface FileInfo {
  bytes: number;
  /** gzip header XFL byte: 4 = fastest (level 1), 2 = best (level 9), 0 = any other level. */
  gzipXfl: number | undefined;
}

/** A contestant's output files. */
export interface OutputFiles {
  labels: FileInfo;
  probabilities: FileInfo;
  perClass: FileInfo[];
  perClassBytes: number;
}

/** One tool's medians, as bench-results/imaging-io.json holds them. */
export interface ContestantSummary {
  coldReadMs: number;
  medianWarmReadMs: number;
  medianWriteLabelsMs: number;
  medianWriteProbabilitiesMs: number;
  medianWritePerClassMs: number;
  peakRssKiB: number;
  peakAfterReadsKiB: number;
  rssBeforeBytes: number;
}

/** The labels and probabilities both writers get, and how they were made. */
export interface SyntheticSegmentation {
  labels: Uint8Array;
  probabilities: Float32Array;
  description: Record<string, unknown>;
}
