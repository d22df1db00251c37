/**
 * A frozen copy of @mixseg/core for the duration of one benchmark run.
 *
 * packages/core is edited while benchmarks run, and every child process loads the core afresh, so
 * without a snapshot different repetitions would time different code. The snapshot copies
 * packages/core/src and package.json (from the working tree, or from a git revision) into a
 * temporary folder, links the package's node_modules (for ml-matrix), and records a hash of every
 * file. Children import the snapshot's src/index.ts instead of the live package.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from './measure.ts';

const CORE_DIR = 'packages/core';

export interface CoreSnapshot {
  /** `working tree` or `git <ref> (<commit>)`. */
  source: string;
  /** file:// URL of the snapshot's src/index.ts, for dynamic import(). */
  moduleUrl: string;
  /** HEAD when the snapshot was taken. */
  headCommit: string | undefined;
  /** `git status --porcelain packages/core` when the snapshot was taken (working-tree snapshots). */
  uncommitted: string[];
  /** sha256 of every copied file, by path relative to the repository root. */
  files: Record<string, string>;
  /** sha256 over all (path, file hash) pairs: equal hashes mean identical code. */
  hash: string;
  takenAt: string;
}

function git(args: readonly string[]): string {
  const run = spawnSync('git', args, { cwd: repoRoot, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  if (run.status !== 0) throw new Error(`git ${args.join(' ')} failed: ${run.stderr.trim()}`);
  return run.stdout;
}

function gitOrUndefined(args: readonly string[]): string | undefined {
  try {
    return git(args).trimEnd();
  } catch {
    return undefined;
  }
}

function listWorkingTree(directory: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(join(repoRoot, directory), { withFileTypes: true })) {
    const path = `${directory}/${entry.name}`;
    if (entry.isDirectory()) files.push(...listWorkingTree(path));
    else if (entry.isFile()) files.push(path);
  }
  return files;
}

/**
 * Copies the core's sources into `directory` and returns where to import them from.
 * `ref` undefined: the working tree as it is now; otherwise a git revision (e.g. HEAD).
 */
export function snapshotCore(directory: string, ref: string | undefined): CoreSnapshot {
  const headCommit = gitOrUndefined(['rev-parse', 'HEAD']);
  let source: string;
  let paths: string[];
  let read: (path: string) => Buffer;
  if (ref === undefined) {
    source = 'working tree';
    paths = [...listWorkingTree(`${CORE_DIR}/src`), `${CORE_DIR}/package.json`];
    read = (path) => readFileSync(join(repoRoot, path));
  } else {
    const commit = git(['rev-parse', '--verify', `${ref}^{commit}`]).trim();
    source = `git ${ref} (${commit})`;
    paths = git(['ls-tree', '-r', '--name-only', commit, '--', `${CORE_DIR}/src`, `${CORE_DIR}/package.json`])
      .split('\n')
      .filter((line) => line.length > 0);
    read = (path) => {
      const run = spawnSync('git', ['show', `${commit}:${path}`], { cwd: repoRoot, maxBuffer: 64 * 2 ** 20 });
      if (run.status !== 0) throw new Error(`git show ${commit}:${path} failed: ${run.stderr.toString()}`);
      return run.stdout;
    };
  }
  const files: Record<string, string> = {};
  const overall = createHash('sha256');
  for (const path of [...paths].sort()) {
    const content = read(path);
    const target = join(directory, relative(CORE_DIR, path));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, content);
    const digest = createHash('sha256').update(content).digest('hex');
    files[path] = digest;
    overall.update(`${path}\0${digest}\n`);
  }
  symlinkSync(join(repoRoot, CORE_DIR, 'node_modules'), join(directory, 'node_modules'), 'dir');
  const status = gitOrUndefined(['status', '--porcelain', '--', CORE_DIR]);
  return {
    source,
    moduleUrl: pathToFileURL(join(directory, 'src', 'index.ts')).href,
    headCommit,
    uncommitted: ref === undefined && status ? status.split('\n') : [],
    files,
    hash: overall.digest('hex'),
    takenAt: new Date().toISOString(),
  };
}

/** Removes the node_modules link (so that a recursive delete cannot follow it). */
export function releaseCoreSnapshot(directory: string): void {
  try {
    unlinkSync(join(directory, 'node_modules'));
  } catch {
    // already gone
  }
}
