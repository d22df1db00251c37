/**
 * Where relative paths on the command line are resolved from: the folder the command was typed in,
 * also through `pnpm mixseg`, which runs its script in the package's folder.
 */

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { invocationFolder } from '../src/cli-io.ts';
import { type RunResult, shellEnvironment } from './helpers.ts';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

describe('invocationFolder', () => {
  it('is INIT_CWD when the process is the mixseg script of the repository root or of apps/cli', () => {
    for (const packageName of ['mixseg', '@mixseg/cli']) {
      const env = {
        INIT_CWD: '/home/me/study',
        npm_lifecycle_event: 'mixseg',
        npm_package_name: packageName,
      };
      expect(invocationFolder(env, '/repo')).toBe('/home/me/study');
    }
  });

  it("is the working folder without INIT_CWD, under another script, or under another package's mixseg script", () => {
    const cwd = '/repo/apps/cli';
    expect(invocationFolder({}, cwd)).toBe(cwd);
    expect(invocationFolder({ npm_lifecycle_event: 'mixseg', npm_package_name: 'mixseg' }, cwd)).toBe(cwd);
    // `pnpm test` runs the tests, and the binaries they start, with INIT_CWD set
    expect(
      invocationFolder(
        { INIT_CWD: '/elsewhere', npm_lifecycle_event: 'test', npm_package_name: 'mixseg' },
        cwd,
      ),
    ).toBe(cwd);
    // another project's script "mixseg": "mixseg segment data" means data in that project
    expect(
      invocationFolder(
        { INIT_CWD: '/elsewhere', npm_lifecycle_event: 'mixseg', npm_package_name: 'study' },
        cwd,
      ),
    ).toBe(cwd);
    expect(
      invocationFolder(
        { INIT_CWD: 'relative', npm_lifecycle_event: 'mixseg', npm_package_name: 'mixseg' },
        cwd,
      ),
    ).toBe(cwd);
  });
});

/** Runs pnpm as typed in a shell in `cwd`; undefined when there is no pnpm on PATH. */
function runPnpm(args: string[], cwd: string): Promise<RunResult | undefined> {
  return new Promise((resolve, reject) => {
    const child = spawn('pnpm', args, { cwd, env: shellEnvironment(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', (error: NodeJS.ErrnoException) =>
      error.code === 'ENOENT' ? resolve(undefined) : reject(error),
    );
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe('pnpm mixseg in a folder of the checkout', () => {
  it('resolves relative paths against that folder, through the root script and through apps/cli', async (context) => {
    // inside the checkout (test-artifacts/ is ignored by git), where pnpm finds the scripts
    await mkdir(join(ROOT, 'test-artifacts'), { recursive: true });
    const folder = await mkdtemp(join(ROOT, 'test-artifacts', 'invocation-'));
    // a name no one else uses: where the files would go with the old behaviour, removed below
    const name = basename(folder);
    try {
      for (const [script, outDir] of [
        [['mixseg'], `${name}-root`],
        [['--filter', '@mixseg/cli', 'mixseg'], `${name}-cli`],
      ] as const) {
        const result = await runPnpm([...script, 'phantom', '-o', outDir, '--size', '24'], folder);
        if (result === undefined) return context.skip('pnpm is not on PATH');
        expect(result.code, result.stderr).toBe(0);
        expect(existsSync(join(folder, outDir, 'sub-phantom_T1w.nii.gz'))).toBe(true);
      }
    } finally {
      await rm(folder, { recursive: true, force: true });
      for (const stray of [join(ROOT, `${name}-root`), join(ROOT, 'apps', 'cli', `${name}-cli`)]) {
        await rm(stray, { recursive: true, force: true });
      }
    }
  });
});
