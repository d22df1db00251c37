import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeErrorReason, writeFileAtomic } from '../../src/io/atomic-write.ts';
import { ImageFileError } from '../../src/types.ts';

let folder: string;
/** Small file systems mounted for the test (root in a sandbox that allows it); unmounted after. */
const mounted: string[] = [];

/** Mounts a tmpfs of 1 MiB (read-only when asked) at a new folder; undefined when not allowed. */
async function mountTmpfs(name: string, options: string): Promise<string | undefined> {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return undefined;
  const point = join(folder, name);
  await mkdir(point);
  const result = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=1M,${options}`, 'tmpfs', point]);
  if (result.status !== 0) return undefined;
  mounted.push(point);
  return point;
}

let full: string | undefined;
let readOnly: string | undefined;
beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'mixseg-atomic-write-'));
  full = await mountTmpfs('small', 'rw');
  readOnly = await mountTmpfs('read-only', 'ro');
});
afterAll(async () => {
  for (const point of mounted) spawnSync('umount', [point]);
  await rm(folder, { recursive: true, force: true });
});

async function failure(action: Promise<unknown>): Promise<ImageFileError> {
  const error = await action.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(ImageFileError);
  return error as ImageFileError;
}

describe('writeFileAtomic', () => {
  it('writes the bytes under the final name and leaves no temporary file', async () => {
    const path = join(folder, 'done.txt');
    await writeFileAtomic(path, 'complete\n');
    expect(await readFile(path, 'utf8')).toBe('complete\n');
    expect((await readdir(folder)).filter((name) => name.includes('.tmp-'))).toEqual([]);
  });

  it('removes its temporary file when the disk fills, and says so in one line naming the file', async (context) => {
    if (!full) return context.skip('mounting a 1 MiB tmpfs needs root and a sandbox that allows mount');
    const path = join(full, 'sub-01_T1w_dseg.nii.gz');
    const error = await failure(writeFileAtomic(path, new Uint8Array(3 << 20)));
    expect(error.message).toBe(`${path}: cannot write: no space left on the device`);
    expect((error.cause as NodeJS.ErrnoException).code).toBe('ENOSPC');
    expect(await readdir(full)).toEqual([]);
    // the space is back: a small file fits
    await writeFileAtomic(path, new Uint8Array(1000));
    expect(await readdir(full)).toEqual(['sub-01_T1w_dseg.nii.gz']);
  });

  it('says that a read-only folder cannot be written', async (context) => {
    if (!readOnly)
      return context.skip('mounting a read-only tmpfs needs root and a sandbox that allows mount');
    const path = join(readOnly, 'summary.tsv');
    const error = await failure(writeFileAtomic(path, 'subject\n'));
    expect(error.message).toBe(`${path}: cannot write here (read-only or permission denied)`);
    expect(await readdir(readOnly)).toEqual([]);
  });

  it('removes its temporary file when the rename fails (a folder holds the name)', async () => {
    const target = join(folder, 'taken');
    await mkdir(join(target, 'inside'), { recursive: true });
    const error = await failure(writeFileAtomic(target, 'bytes'));
    expect(error.message).toMatch(/^.*taken: cannot write: a folder of that name is in the way$/);
    expect((await readdir(folder)).filter((name) => name.includes('.tmp-'))).toEqual([]);
  });

  it('says when part of the path is a file, not a folder', async () => {
    const file = join(folder, 'a-file');
    await writeFile(file, '');
    const path = join(file, 'out.nii.gz');
    const error = await failure(writeFileAtomic(path, 'bytes'));
    expect(error.message).toBe(`${path}: cannot write: part of the path is a file, not a folder`);
  });
});

describe('writeErrorReason', () => {
  it('reads the errno code of the error or of its cause, and keeps one line for others', () => {
    const code = (name: string) => Object.assign(new Error(`${name}: something`), { code: name });
    expect(writeErrorReason(code('EACCES'))).toBe('cannot write here (read-only or permission denied)');
    expect(writeErrorReason(new Error('wrapped', { cause: code('EDQUOT') }))).toBe(
      'cannot write: disk quota exceeded',
    );
    expect(writeErrorReason(new Error('first line\n    at stack'))).toBe('cannot write: first line');
  });
});
