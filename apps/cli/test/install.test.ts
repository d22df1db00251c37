/**
 * `mixseg` as a command on PATH: packs the CLI (pack.mjs), installs the tarball with
 * `npm install -g` into an empty prefix, and runs the installed `mixseg` as a user would. npm
 * fetches sharp from the registry (or its cache): without either the tests are skipped, saying so.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import cliPackage from '../package.json' with { type: 'json' };
import { type RunResult, shellEnvironment, temporaryFolder } from './helpers.ts';

const CLI_FOLDER = fileURLToPath(new URL('..', import.meta.url));
// npm's own words for a registry it cannot reach
const UNREACHABLE =
  /\b(ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH)\b|network/;

let folder: { path: string; remove: () => Promise<void> };
let prefix: string;
let env: Record<string, string>;
/** Why the install could not run (no registry), or undefined when it did. */
let unreachable: string | undefined;

function start(command: string, args: string[], cwd: string): ChildProcess {
  return spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
}

function run(command: string, args: string[], cwd: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = start(command, args, cwd);
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

beforeAll(async () => {
  folder = await temporaryFolder();
  prefix = join(folder.path, 'prefix');
  // the installed mixseg comes first on PATH, before any other
  env = { ...shellEnvironment(), PATH: [join(prefix, 'bin'), process.env.PATH ?? ''].join(delimiter) };
  const packed = await run(process.execPath, ['pack.mjs', '--out', folder.path], CLI_FOLDER);
  if (packed.code !== 0) throw new Error(`pack.mjs failed (exit ${packed.code}):\n${packed.stderr}`);
  const tarball = packed.stdout.trim();
  const installed = await run(
    'npm',
    [
      'install',
      '--global',
      '--prefix',
      prefix,
      '--prefer-offline',
      // a registry that cannot be reached fails in seconds, not after minutes of retries
      '--fetch-retries=1',
      '--fetch-retry-mintimeout=2000',
      '--fetch-retry-maxtimeout=5000',
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
      tarball,
    ],
    folder.path,
  );
  if (installed.code !== 0) {
    if (!UNREACHABLE.test(installed.stderr)) {
      throw new Error(`npm install -g failed (exit ${installed.code}):\n${installed.stderr}`);
    }
    unreachable = `skipped: npm cannot reach the registry to fetch sharp (${installed.stderr.trim().split('\n')[0]})`;
    console.warn(`install.test.ts: ${unreachable}`);
  }
});
afterAll(() => folder?.remove());

describe('the packed CLI installed with npm install -g into an empty prefix', () => {
  it('has a bin, Node >= 20.19 and only sharp as a dependency: no workspace: or catalog: range', async (context) => {
    if (unreachable) context.skip(unreachable);
    const installedFolder = join(prefix, 'lib', 'node_modules', '@mixseg', 'cli');
    const text = await readFile(join(installedFolder, 'package.json'), 'utf8');
    expect(text).not.toMatch(/workspace:|catalog:/);
    const manifest = JSON.parse(text);
    expect(manifest.name).toBe('@mixseg/cli');
    expect(manifest.version).toBe(cliPackage.version);
    expect(manifest.bin).toEqual({ mixseg: 'dist/mixseg.mjs' });
    expect(manifest.engines).toEqual({ node: '>=20.19' });
    expect(Object.keys(manifest.dependencies)).toEqual(['sharp']);
    expect(manifest.dependencies.sharp).toMatch(/^\d+\.\d+\.\d+$/);
    expect(existsSync(join(installedFolder, 'dist', 'viewer', 'index.html'))).toBe(true);
  });

  it('puts mixseg on PATH, which prints its version', async (context) => {
    if (unreachable) context.skip(unreachable);
    const result = await run('mixseg', ['--version'], folder.path);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim()).toBe(cliPackage.version);
  });

  it('writes a phantom and segments it, relative paths from where it runs', async (context) => {
    if (unreachable) context.skip(unreachable);
    const phantom = await run('mixseg', ['phantom', '-o', 'phantom', '--size', '24'], folder.path);
    expect(phantom.code, phantom.stderr).toBe(0);
    const segmented = await run(
      'mixseg',
      ['segment', 'phantom/sub-phantom_T1w.nii.gz', '-o', 'out', '--no-probabilities'],
      folder.path,
    );
    expect(segmented.code, segmented.stderr).toBe(0);
    expect(existsSync(join(folder.path, 'out', 'sub-phantom_T1w_dseg.nii.gz'))).toBe(true);
  });

  it('serves the viewer page shipped in the package, and stops on Ctrl-C', async (context) => {
    if (unreachable) context.skip(unreachable);
    const child = start('mixseg', ['view', 'out'], folder.path);
    const url = await new Promise<string>((resolve, reject) => {
      let stdout = '';
      let stderr = '';
      child.stdout!.on('data', (chunk) => {
        stdout += chunk;
        const match = /http:\/\/\S+/.exec(stdout);
        if (match) resolve(match[0]);
      });
      child.stderr!.on('data', (chunk) => {
        stderr += chunk;
      });
      child.on('close', (code) => reject(new Error(`mixseg view exited (${code}): ${stderr}`)));
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      const response = await fetch(url);
      expect(response.status).toBe(200);
      expect(await response.text()).toMatch(/^<!doctype html>/i);
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
  });
});
