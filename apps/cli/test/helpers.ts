/** Shared by the CLI tests: running the command in-process or as the built binary, and small phantoms. */

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { encodeNifti1, generatePhantom, writeLabelMap, writeNifti } from '@mixseg/imaging/node';
import type { CliIo } from '../src/cli-io.ts';
import { runCli } from '../src/program.ts';

export const BIN = fileURLToPath(new URL('../dist/mixseg.mjs', import.meta.url));

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `mixseg <args>` in this process (subjects one by one, no worker threads). */
export async function runInProcess(
  args: string[],
  options: {
    cwd?: string;
    env?: Record<string, string | undefined>;
    isTTY?: boolean;
    /** Ends a command that runs until interrupted (view). */
    signal?: AbortSignal;
    /** Sees stdout as it is written. */
    onStdout?: (text: string) => void;
  } = {},
): Promise<RunResult> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: (text) => {
      stdout += text;
      options.onStdout?.(text);
    },
    stderr: (text) => {
      stderr += text;
    },
    isTTY: options.isTTY ?? false,
    columns: 100,
    env: options.env ?? {},
    cwd: options.cwd ?? process.cwd(),
    handleSignals: false,
    useWorkers: false,
    ...(options.signal ? { signal: options.signal } : {}),
  };
  const code = await runCli(args, io);
  return { code, stdout, stderr };
}

/** Starts the built binary; without SLURM or Kubernetes variables unless given. */
export function startBinary(
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): ChildProcess {
  const env = { ...process.env };
  for (const name of [
    'SLURM_ARRAY_TASK_ID',
    'SLURM_ARRAY_TASK_COUNT',
    'SLURM_ARRAY_TASK_MIN',
    'JOB_COMPLETION_INDEX',
  ]) {
    delete env[name];
  }
  return spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd ?? process.cwd(),
    env: { ...env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Runs the built binary to the end. */
export function runBinary(
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = startBinary(args, options);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr!.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** A fresh temporary folder, and a function removing it. */
export async function temporaryFolder(): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), 'mixseg-cli-test-'));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** Small phantom subjects `sub-XX_T1w.nii.gz` (different noise seeds) with their truth; returns the image paths. */
export async function writePhantoms(
  folder: string,
  count: number,
  dims: [number, number, number] = [32, 32, 24],
): Promise<string[]> {
  await mkdir(folder, { recursive: true });
  const paths: string[] = [];
  for (let i = 0; i < count; i++) {
    const phantom = generatePhantom({ dims, spacing: [4, 4, 4], noiseLevel: 0.04, seed: i + 1 });
    const name = `sub-${String(i + 1).padStart(2, '0')}`;
    const path = join(folder, `${name}_T1w.nii.gz`);
    await writeNifti(path, {
      data: phantom.image.data,
      dims: phantom.image.dims,
      datatype: 'int16',
      geometry: phantom.image.geometry,
    });
    await writeLabelMap(join(folder, `${name}_desc-truth_dseg.nii.gz`), phantom.labels, phantom.image);
    paths.push(path);
  }
  return paths;
}

/**
 * This process's environment without what `pnpm test` (or any package script) adds to it
 * (`npm_lifecycle_event`, `npm_package_*`, `INIT_CWD`, ...): a command run with it behaves as if
 * typed in a shell. Registry and cache settings (`npm_config_*`) stay.
 */
export function shellEnvironment(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    const addedByScript =
      /^npm_(lifecycle_|package_|command$|execpath$|node_execpath$|config_user_agent$|config_node_gyp$)/.test(
        name,
      ) ||
      name === 'INIT_CWD' ||
      name === 'PNPM_SCRIPT_SRC_DIR';
    if (value !== undefined && !addedByScript) env[name] = value;
  }
  return env;
}

/**
 * A `.nii.gz` of a few hundred bytes whose header declares nx x ny x nz int16 voxels: the header
 * of a 2 x 2 x 2 image with its dimensions changed (the data is not there: only the header is read).
 */
export async function writeDeclaredSize(path: string, dims: [number, number, number]): Promise<void> {
  const bytes = encodeNifti1({
    data: new Int16Array(8),
    dims: [2, 2, 2],
    datatype: 'int16',
    geometry: {
      qformCode: 0,
      sformCode: 0,
      quaternion: [0, 0, 0],
      qoffset: [0, 0, 0],
      pixdim: [1, 1, 1, 1, 0, 0, 0, 0],
      srow: [
        [1, 0, 0, 0],
        [0, 1, 0, 0],
        [0, 0, 1, 0],
      ],
      xyztUnits: 2,
    },
  });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const [axis, size] of dims.entries()) view.setInt16(42 + 2 * axis, size, true);
  await writeFile(path, gzipSync(bytes));
}
