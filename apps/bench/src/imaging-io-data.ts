/**
 * The imaging I/O benchmark's inputs and outputs on disk: the synthetic segmentation both writers
 * get (raw uint8 labels and float32 probabilities), where each contestant writes, and what its files
 * are (size, gzip level).
 */
import { closeSync, mkdirSync, openSync, readFileSync, readSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { Volume } from '@mixseg/imaging';
import type { FileInfo, IoOutputs, OutputFiles, SyntheticSegmentation } from './imaging-io-types.ts';

/** K of the synthetic segmentation: three classes, as a T1 image is segmented. */
export const N_CLASSES = 3;

/** Writes a typed array as raw little-endian bytes (the layout both children read). */
export function writeRaw(path: string, data: Uint8Array | Float32Array): void {
  if (os.endianness() !== 'LE')
    throw new Error('this benchmark writes little-endian raw files on LE hosts only');
  writeFileSync(path, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
}

/** Labels by tertiles and smooth probabilities from the voxel values (see METHODOLOGY.data). */
export function syntheticSegmentation(volume: Volume, nClasses: number): SyntheticSegmentation {
  const values = volume.data;
  const nVoxels = values.length;
  let maskVoxels = 0;
  for (let i = 0; i < nVoxels; i++) if (values[i] !== 0) maskVoxels++;
  if (maskVoxels === 0) throw new Error(`${volume.source.path} has no nonzero voxel`);
  const nonzero = new Float64Array(maskVoxels);
  for (let i = 0, j = 0; i < nVoxels; i++) if (values[i] !== 0) nonzero[j++] = values[i]!;
  nonzero.sort();
  const quantile = (q: number): number => nonzero[Math.min(maskVoxels - 1, Math.floor(q * maskVoxels))]!;
  const thresholds = Array.from({ length: nClasses - 1 }, (_, k) => quantile((k + 1) / nClasses));
  const centres = Array.from({ length: nClasses }, (_, k) => quantile((2 * k + 1) / (2 * nClasses)));
  const width = Math.max((centres[nClasses - 1]! - centres[0]!) / 4, 1);

  const labels = new Uint8Array(nVoxels);
  const probabilities = new Float32Array(nVoxels * nClasses);
  const classCounts = new Array<number>(nClasses + 1).fill(0);
  const logits = new Float64Array(nClasses);
  for (let i = 0; i < nVoxels; i++) {
    const v = values[i]!;
    if (v === 0) {
      classCounts[0]!++;
      continue;
    }
    let label = 1;
    while (label < nClasses && v >= thresholds[label - 1]!) label++;
    labels[i] = label;
    classCounts[label]!++;
    let maxLogit = -Infinity;
    for (let k = 0; k < nClasses; k++) {
      const z = (v - centres[k]!) / width;
      logits[k] = -0.5 * z * z;
      if (logits[k]! > maxLogit) maxLogit = logits[k]!;
    }
    let total = 0;
    for (let k = 0; k < nClasses; k++) {
      logits[k] = Math.exp(logits[k]! - maxLogit);
      total += logits[k]!;
    }
    for (let k = 0; k < nClasses; k++) probabilities[i * nClasses + k] = logits[k]! / total;
  }
  return {
    labels,
    probabilities,
    description: { nVoxels, maskVoxels, thresholds, centres, width, classCounts },
  };
}

/** The first 10 bytes of a gzip file: XFL is byte 8. */
function fileInfo(path: string): FileInfo {
  const bytes = statSync(path).size;
  const header = new Uint8Array(10);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, header, 0, 10, 0);
  } finally {
    closeSync(fd);
  }
  const isGzip = header[0] === 0x1f && header[1] === 0x8b;
  return { bytes, gzipXfl: isGzip ? header[8] : undefined };
}

/** The size and gzip header of every output a contestant wrote. */
export function outputFiles(outputs: IoOutputs): OutputFiles {
  const perClass = outputs.perClass.map(fileInfo);
  return {
    labels: fileInfo(outputs.labels),
    probabilities: fileInfo(outputs.probabilities),
    perClass,
    perClassBytes: perClass.reduce((sum, f) => sum + f.bytes, 0),
  };
}

/**
 * The zlib gzip level that reproduces `path` byte for byte (mixseg gzips with node:zlib, which is
 * deterministic for a given zlib), or undefined when none does.
 */
export function inferGzipLevel(path: string): number | undefined {
  const gz = new Uint8Array(readFileSync(path));
  const raw = gunzipSync(gz);
  for (let level = 0; level <= 9; level++) {
    const candidate = gzipSync(raw, { level });
    if (candidate.length === gz.length && candidate.every((byte, i) => byte === gz[i])) return level;
  }
  return undefined;
}

/** The output paths of a contestant writing into `directory`. */
export function outputsIn(directory: string, nClasses: number): IoOutputs {
  mkdirSync(directory, { recursive: true });
  return {
    labels: join(directory, 'labels.nii.gz'),
    probabilities: join(directory, 'probabilities.nii.gz'),
    perClass: Array.from({ length: nClasses }, (_, k) => join(directory, `probability-${k}.nii.gz`)),
  };
}
