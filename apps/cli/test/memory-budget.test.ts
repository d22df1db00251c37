import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generatePhantom, writeLabelPng } from '@mixseg/imaging/node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  availableMemory,
  BYTES_PER_VOXEL,
  BYTES_PER_VOXEL_AND_CLASS,
  cgroupMemoryLimit,
  defaultMemoryBudget,
  estimateSubjectBytes,
  estimateSubjectMemory,
  formatBytes,
  overBudgetMessage,
  parseMemoryBudget,
  planStarts,
  readImageHeader,
  SUBJECT_FIXED_BYTES,
} from '../src/memory-budget.ts';
import { type PoolTask, runPool, runScheduled } from '../src/pool.ts';
import { temporaryFolder, writeDeclaredSize } from './helpers.ts';

const GiB = 2 ** 30;
const sharedData = new URL('../../../../shared/data/', import.meta.url);
const hasSharedData = existsSync(sharedData);

describe('memory estimates from headers', () => {
  let folder: { path: string; remove: () => Promise<void> };
  beforeEach(async () => {
    folder = await temporaryFolder();
  });
  afterEach(async () => {
    await folder.remove();
  });

  it('estimates a small file declaring 1024^3 voxels from its header, and fails it by name against a 12 GB budget', async () => {
    const bomb = join(folder.path, 'bomb_T1w.nii.gz');
    await writeDeclaredSize(bomb, [1024, 1024, 1024]);
    const header = await readImageHeader(bomb);
    expect(header).toEqual({ path: bomb, nVoxels: 1024 ** 3, valueBytes: 4, storedBytesPerVoxel: 2 });
    const estimate = await estimateSubjectMemory({ channels: [bomb] });
    const perVoxel = BYTES_PER_VOXEL + 3 * BYTES_PER_VOXEL_AND_CLASS + 4 + 2;
    expect(estimate).toEqual({
      file: bomb,
      voxels: 1024 ** 3,
      bytes: SUBJECT_FIXED_BYTES + 1024 ** 3 * perVoxel,
    });
    expect(overBudgetMessage(estimate!, 12 * GiB)).toBe(
      `${bomb}: needs about 109 GB for 1073741824 voxels, more than the memory budget of 12 GB (--memory-budget)`,
    );
  });

  it('adds the channels, the mask and the classes, and reads PNG dimensions without decoding', async () => {
    const phantom = generatePhantom({ dims: [20, 16, 1], spacing: [1, 1, 1], seed: 1 });
    const png = join(folder.path, 'slice.png');
    await writeLabelPng(png, Uint16Array.from(phantom.image.data), phantom.image);
    const header = await readImageHeader(png);
    expect(header.nVoxels).toBe(320);
    const t1 = { path: 't1', nVoxels: 1e6, valueBytes: 4, storedBytesPerVoxel: 2 };
    const t2 = { ...t1, path: 't2', valueBytes: 8, storedBytesPerVoxel: 8 };
    const one = estimateSubjectBytes({ channels: [t1] });
    expect(estimateSubjectBytes({ channels: [t1, t2] }) - one).toBe(16e6);
    expect(estimateSubjectBytes({ channels: [t1], mask: { ...t1, path: 'mask' } }) - one).toBe(6e6);
    expect(estimateSubjectBytes({ channels: [t1] }, { classes: 5 }) - one).toBe(
      2 * BYTES_PER_VOXEL_AND_CLASS * 1e6,
    );
    // an unreadable header reserves nothing: the worker reports the file's own error
    expect(await estimateSubjectMemory({ channels: [join(folder.path, 'missing.nii.gz')] })).toBeUndefined();
  });

  it.skipIf(!hasSharedData)(
    'estimates at least what SRI24 (1 mm, 8.9 M voxels) was measured to need (0.94 GB with its worker thread)',
    async () => {
      const spgr = fileURLToPath(new URL('sri24/spgr.nii.gz', sharedData));
      const estimate = await estimateSubjectMemory({ channels: [spgr] });
      expect(estimate?.voxels).toBe(240 * 240 * 155);
      expect(estimate!.bytes).toBeGreaterThan(0.94e9);
      expect(estimate!.bytes).toBeLessThan(1.6e9);
    },
  );
});

describe('the memory budget', () => {
  let folder: { path: string; remove: () => Promise<void> };
  beforeEach(async () => {
    folder = await temporaryFolder();
  });
  afterEach(async () => {
    await folder.remove();
  });

  it('takes the smallest cgroup v2 memory.max from the process cgroup up, and 75% of it by default', async () => {
    const root = join(folder.path, 'cgroup');
    await mkdir(join(root, 'job', 'step'), { recursive: true });
    await writeFile(join(root, 'memory.max'), 'max\n');
    await writeFile(join(root, 'job', 'memory.max'), `${8 * GiB}\n`);
    await writeFile(join(root, 'job', 'step', 'memory.max'), 'max\n');
    const procCgroup = join(folder.path, 'self-cgroup');
    await writeFile(procCgroup, '0::/job/step\n');
    const sources = { cgroupRoot: root, procCgroup, totalMemory: 16 * GiB };
    expect(cgroupMemoryLimit(sources)).toBe(8 * GiB);
    expect(availableMemory(sources)).toBe(8 * GiB);
    expect(defaultMemoryBudget(sources)).toBe(6 * GiB);
    // no limit: the machine's memory
    await writeFile(join(root, 'job', 'memory.max'), 'max\n');
    expect(defaultMemoryBudget(sources)).toBe(12 * GiB);
  });

  it("reads cgroup v1's memory.limit_in_bytes, where 2^63 means no limit", async () => {
    const root = join(folder.path, 'cgroup');
    await mkdir(join(root, 'memory', 'slurm'), { recursive: true });
    await writeFile(join(root, 'memory', 'memory.limit_in_bytes'), '9223372036854771712\n');
    const procCgroup = join(folder.path, 'self-cgroup');
    await writeFile(procCgroup, '5:cpuacct,cpu:/slurm\n4:memory:/slurm\n');
    const sources = { cgroupRoot: root, procCgroup, totalMemory: 64 * GiB };
    expect(cgroupMemoryLimit(sources)).toBeUndefined();
    await writeFile(join(root, 'memory', 'slurm', 'memory.limit_in_bytes'), `${4 * GiB}\n`);
    expect(cgroupMemoryLimit(sources)).toBe(4 * GiB);
  });

  it('parses sizes in powers of 1024 and fractions of the memory, and refuses a bare number above 1', () => {
    const available = 16 * GiB;
    expect(parseMemoryBudget('8G', available)).toBe(8 * GiB);
    expect(parseMemoryBudget('8GiB', available)).toBe(8 * GiB);
    expect(parseMemoryBudget('8000M', available)).toBe(8000 * 2 ** 20);
    expect(parseMemoryBudget('512mb', available)).toBe(512 * 2 ** 20);
    expect(parseMemoryBudget('1.5T', available)).toBe(1.5 * 2 ** 40);
    expect(parseMemoryBudget('0.5', available)).toBe(8 * GiB);
    expect(parseMemoryBudget('25%', available)).toBe(4 * GiB);
    expect(() => parseMemoryBudget('8000', available)).toThrow('8000 has no unit: give 8000G or 8000M');
    expect(() => parseMemoryBudget('150%', available)).toThrow(RangeError);
    expect(() => parseMemoryBudget('0', available)).toThrow('must be more than 0');
    expect(() => parseMemoryBudget('-1G', available)).toThrow('expected a size such as 8G');
    expect(() => parseMemoryBudget('lots', available)).toThrow('expected a size such as 8G');
  });

  it('prints sizes as the budget is given', () => {
    expect(formatBytes(12 * GiB)).toBe('12 GB');
    expect(formatBytes(6.4 * GiB)).toBe('6.4 GB');
    expect(formatBytes(850 * 2 ** 20)).toBe('850 MB');
    expect(formatBytes(512)).toBe('512 bytes');
  });
});

describe('planStarts', () => {
  it('starts in order what fits in what is left, lets a later small task pass a large one, and refuses what can never fit', () => {
    expect(planStarts([4, 6, 2, 13, undefined], { inUse: 3, budget: 12, slots: 4 })).toEqual({
      start: [0, 2, 4],
      neverFit: [3],
    });
    expect(planStarts([1, 1, 1], { inUse: 0, budget: 12, slots: 2 })).toEqual({
      start: [0, 1],
      neverFit: [],
    });
    expect(() => planStarts([Number.NaN], { inUse: 0, budget: 12, slots: 1 })).toThrow(RangeError);
  });
});

describe('runScheduled', () => {
  it('keeps the running estimates within the budget and the jobs, runs every task that fits, and fails the rest at once', async () => {
    const sizes = [6, 3, 9, 20, 2, 5, 7, 1, 12, 4];
    const budget = 12;
    let inUse = 0;
    let running = 0;
    let peakBytes = 0;
    let peakJobs = 0;
    const ran: number[] = [];
    const refused: number[] = [];
    await runScheduled(
      sizes.length,
      { jobs: 3, budget, bytesOf: (i) => sizes[i] },
      {
        neverFits: (i) => refused.push(i),
        run: async (i) => {
          inUse += sizes[i]!;
          running++;
          peakBytes = Math.max(peakBytes, inUse);
          peakJobs = Math.max(peakJobs, running);
          await new Promise((resolve) => setTimeout(resolve, 5 + ((i * 7) % 11)));
          inUse -= sizes[i]!;
          running--;
          ran.push(i);
        },
      },
    );
    expect(refused).toEqual([3]);
    expect(ran.sort((a, b) => a - b)).toEqual([0, 1, 2, 4, 5, 6, 7, 8, 9]);
    expect(peakBytes).toBeLessThanOrEqual(budget);
    expect(peakJobs).toBeLessThanOrEqual(3);
    expect(peakJobs).toBeGreaterThan(1);
  });

  it('runs tasks without estimates as before, up to the jobs, and stops starting once aborted', async () => {
    const controller = new AbortController();
    const ran: number[] = [];
    await runScheduled(
      6,
      { jobs: 2, signal: controller.signal },
      {
        neverFits: () => {
          throw new Error('nothing can be over an absent budget');
        },
        run: async (i) => {
          ran.push(i);
          if (i === 2) controller.abort();
          await new Promise((resolve) => setTimeout(resolve, 1));
        },
      },
    );
    expect(ran).toEqual([0, 1, 2]);
  });
});

describe('runPool with a memory budget', () => {
  it('fails a subject whose estimate alone exceeds the budget, by name, without starting it', async () => {
    const bomb = '/data/bomb_T1w.nii.gz';
    const tasks = [
      {
        subject: { stem: 'bomb_T1w', channels: [bomb] },
        memory: { file: bomb, voxels: 1024 ** 3, bytes: 117e9 },
      },
    ] as unknown as PoolTask[];
    const started: string[] = [];
    const finished: string[] = [];
    const rows = await runPool(
      tasks,
      {
        start: (task) => started.push(task.subject.stem),
        progress: () => {},
        finish: (row) => finished.push(row.subject),
      },
      { jobs: 2, useWorkers: false, memoryBudget: 12 * GiB },
    );
    expect(started).toEqual([]);
    expect(finished).toEqual(['bomb_T1w']);
    expect(rows[0]).toMatchObject({ subject: 'bomb_T1w', status: 'failed', dseg: null });
    expect(rows[0]!.error).toBe(
      `${bomb}: needs about 109 GB for 1073741824 voxels, more than the memory budget of 12 GB (--memory-budget)`,
    );
  });
});
