import { spawnSync } from 'node:child_process';
import type { Dirent } from 'node:fs';
import { chmod, mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UsageError } from '../src/cli-io.ts';
import { findInputFiles, findInputs } from '../src/inputs.ts';
import { temporaryFolder } from './helpers.ts';

const CLI_FOLDER = fileURLToPath(new URL('..', import.meta.url));
const INPUTS_MODULE = fileURLToPath(new URL('../src/inputs.ts', import.meta.url));

/** study/sub-01/anat/sub-01_T1w.nii.gz, sub-02 and sub-03 likewise (the contents do not matter here). */
async function writeStudy(root: string): Promise<string[]> {
  const files: string[] = [];
  for (const subject of ['sub-01', 'sub-02', 'sub-03']) {
    const folder = join(root, 'study', subject, 'anat');
    await mkdir(folder, { recursive: true });
    const file = join(folder, `${subject}_T1w.nii.gz`);
    await writeFile(file, 'not read by the search');
    files.push(file);
  }
  return files;
}

function errno(code: string, syscall: string, path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${syscall} '${path}'`), { code, syscall, path });
}

describe('findInputs', () => {
  let folder: { path: string; remove: () => Promise<void> };
  beforeEach(async () => {
    folder = await temporaryFolder();
  });
  afterEach(async () => {
    await folder.remove();
  });

  it('skips a subfolder it cannot list, says why, and finds the images elsewhere', async () => {
    const [first, locked, third] = await writeStudy(folder.path);
    const lockedFolder = join(folder.path, 'study', 'sub-02');
    const readDirectory = (path: string): Promise<Dirent[]> =>
      path === lockedFolder
        ? Promise.reject(errno('EACCES', 'scandir', path))
        : readdir(path, { withFileTypes: true });
    const search = await findInputs(['study'], folder.path, { readDirectory });
    expect(search.files).toEqual([first, third]);
    expect(search.skipped).toEqual([{ path: lockedFolder, reason: 'permission denied' }]);
    expect(search.files).not.toContain(locked);
  });

  it('names the folders a glob could not read instead of saying that no image matches', async () => {
    await writeStudy(folder.path);
    const unreadable = new Set(['sub-01', 'sub-02', 'sub-03'].map((s) => join(folder.path, 'study', s)));
    const readDirectory = (path: string): Promise<Dirent[]> =>
      unreadable.has(path)
        ? Promise.reject(errno('EACCES', 'scandir', path))
        : readdir(path, { withFileTypes: true });
    const error = await findInputs(['study/sub-*/anat/*_T1w.nii.gz'], folder.path, { readDirectory }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).not.toMatch(/no image matches/);
    expect((error as Error).message).toContain('could not read study/sub-01 (permission denied)');
    expect((error as Error).message).toContain('study/sub-03 (permission denied)');
  });

  it('does not read folders a glob cannot match, so their errors do not concern it', async () => {
    const [first, second, third] = await writeStudy(folder.path);
    await mkdir(join(folder.path, 'study', 'code', 'private'), { recursive: true });
    const read: string[] = [];
    const readDirectory = (path: string): Promise<Dirent[]> => {
      read.push(path);
      return path.includes('code')
        ? Promise.reject(errno('EACCES', 'scandir', path))
        : readdir(path, { withFileTypes: true });
    };
    const search = await findInputs(['study/sub-*/anat/*_T1w.nii.gz'], folder.path, { readDirectory });
    expect(search).toEqual({ files: [first, second, third], skipped: [] });
    expect(read.some((path) => path.includes('code'))).toBe(false);
  });

  it('skips a symbolic link named like an image that leads nowhere (the old search took it)', async () => {
    const [first, second, third] = await writeStudy(folder.path);
    const dangling = join(folder.path, 'study', 'sub-04_T1w.nii.gz');
    await symlink(join(folder.path, 'moved-away.nii.gz'), dangling);
    expect(await findInputFiles(['study'], folder.path)).toEqual([first, second, third]);
    const search = await findInputs(['study'], folder.path);
    expect(search.skipped).toEqual([{ path: dangling, reason: 'broken symbolic link' }]);
  });

  it('still refuses a folder without images and a name that does not exist', async () => {
    await mkdir(join(folder.path, 'empty'));
    await expect(findInputs(['empty'], folder.path)).rejects.toThrow(/no image .* in folder empty/);
    await expect(findInputs(['missing'], folder.path)).rejects.toThrow('no such file or folder: missing');
    await expect(findInputs(['missing/*.nii'], folder.path)).rejects.toThrow(
      'no image matches missing/*.nii',
    );
  });

  it('expands braces: sub-{01,02}/*.nii.gz finds both subjects and reads no other folder', async () => {
    const [first, second, third] = await writeStudy(folder.path);
    const study = join(folder.path, 'study');
    const read: string[] = [];
    const readDirectory = (path: string): Promise<Dirent[]> => {
      read.push(path);
      return readdir(path, { withFileTypes: true });
    };
    expect(await findInputFiles(['sub-{01,02}/*/*.nii.gz'], study)).toEqual([first, second]);
    const search = await findInputs(['study/sub-{01,03}/anat/*_T1w.nii.gz'], folder.path, { readDirectory });
    expect(search).toEqual({ files: [first, third], skipped: [] });
    expect(read.some((path) => path.includes('sub-02'))).toBe(false);
    // a brace holding a slash spans folders (the search then reads them all)
    expect(await findInputFiles(['study/{sub-01/anat,sub-03/*}/*.nii.gz'], folder.path)).toEqual([
      first,
      third,
    ]);
  });

  it('matches ** as any number of folders, none included', async () => {
    const [first, second, third] = await writeStudy(folder.path);
    expect(await findInputFiles(['**/*_T1w.nii.gz'], folder.path)).toEqual([first, second, third]);
    expect(await findInputFiles(['study/**/anat/*.nii.gz'], folder.path)).toEqual([first, second, third]);
    expect(await findInputFiles(['study/sub-02/**/anat/*.nii.gz'], folder.path)).toEqual([second]);
    expect(await findInputFiles(['study/sub-03/anat/**'], folder.path)).toEqual([third]);
  });

  it('matches character classes: lists, ranges, negation and POSIX classes', async () => {
    const [first, second, third] = await writeStudy(folder.path);
    const find = (pattern: string) => findInputFiles([pattern], folder.path);
    expect(await find('study/sub-0[13]/anat/*.nii.gz')).toEqual([first, third]);
    expect(await find('study/sub-0[1-2]/anat/*.nii.gz')).toEqual([first, second]);
    expect(await find('study/sub-0[!2]/anat/*.nii.gz')).toEqual([first, third]);
    expect(await find('study/sub-[[:digit:]][[:digit:]]/anat/*.nii.gz')).toEqual([first, second, third]);
  });

  it('keeps what the old matcher did: ? and * within a name, outputs left out, names taken literally', async () => {
    const [first, second, third] = await writeStudy(folder.path);
    const find = (pattern: string) => findInputFiles([pattern], folder.path);
    expect(await find('study/sub-0?/anat/sub-0?_T1w.nii.gz')).toEqual([first, second, third]);
    // * and ? stop at a slash
    await expect(find('study/*.nii.gz')).rejects.toThrow('no image matches study/*.nii.gz');
    await expect(find('study/sub-01?anat/*.nii.gz')).rejects.toThrow(/no image matches/);
    // mixseg's own outputs beside the inputs are not inputs
    await writeFile(join(folder.path, 'study', 'sub-01', 'anat', 'sub-01_T1w_dseg.nii.gz'), '');
    expect(await find('study/sub-01/anat/*.nii.gz')).toEqual([first]);
    // parentheses and | are characters of a name, in the folder before the glob and in the glob
    const odd = join(folder.path, 'scan (1)', 'a|b (2)');
    await mkdir(odd, { recursive: true });
    await writeFile(join(odd, 'T1 (copy).nii'), '');
    expect(await find('scan (1)/*/*.nii')).toEqual([join(odd, 'T1 (copy).nii')]);
    expect(await find('scan (1)/a|b (2)/T1 (copy).ni?')).toEqual([join(odd, 'T1 (copy).nii')]);
    expect(await find('scan (1)/a|b (2)/T1 (copy).nii')).toEqual([join(odd, 'T1 (copy).nii')]);
  });

  /*
   * The same with the operating system's own permission error: a folder with mode 000, searched by
   * a process that permissions apply to (root reads everything, so as root the search runs in a
   * child process as nobody).
   */
  const asRoot = process.getuid?.() === 0;
  const nobody = asRoot ? { uid: 65534, gid: 65534 } : {};
  const canSwitch =
    process.platform === 'linux' &&
    (!asRoot || spawnSync(process.execPath, ['-e', ''], { ...nobody }).status === 0);

  it.skipIf(!canSwitch)(
    'skips a folder the operating system refuses to list (mode 000), in a folder search and a glob',
    async () => {
      const [first, , third] = await writeStudy(folder.path);
      const locked = join(folder.path, 'study', 'sub-02');
      await chmod(locked, 0o000);
      // the rest must be readable by nobody: mkdtemp made the test folder 0700
      await chmod(folder.path, 0o755);
      const script = `
        import { findInputFiles, findInputs } from ${JSON.stringify(INPUTS_MODULE)};
        const run = (patterns) => findInputs(patterns, ${JSON.stringify(folder.path)}).then(
          (search) => search,
          (error) => ({ error: error.message }),
        );
        console.log(JSON.stringify([
          await run(['study']),
          await run(['study/sub-*/anat/*_T1w.nii.gz']),
          await run(['study/sub-02/anat/*_T1w.nii.gz']),
          await findInputFiles(['study'], ${JSON.stringify(folder.path)}).catch((error) => error.message),
        ]));
      `;
      const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        cwd: CLI_FOLDER,
        encoding: 'utf8',
        ...nobody,
      });
      await chmod(locked, 0o755);
      expect(child.stderr).toBe('');
      const [folderSearch, globSearch, onlyLocked, files] = JSON.parse(child.stdout);
      const skipped = [{ path: locked, reason: 'permission denied' }];
      expect(folderSearch).toEqual({ files: [first, third], skipped });
      expect(globSearch).toEqual({ files: [first, third], skipped });
      // the list alone, as the search before the skipped list gave it, does not abort either
      expect(files).toEqual([first, third]);
      expect(onlyLocked.error).toBe(
        `no readable image in study/sub-02/anat/*_T1w.nii.gz: could not read ${join('study', 'sub-02', 'anat')} (permission denied)`,
      );
    },
    30_000,
  );
});
