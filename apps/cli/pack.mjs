// Packs the mixseg command as a package that installs with plain npm, outside the repository:
//
//   pnpm --filter @mixseg/cli pack:cli            # writes apps/cli/dist/mixseg-cli-<version>.tgz
//   npm install -g apps/cli/dist/mixseg-cli-<version>.tgz
//
// `pnpm pack` of apps/cli itself would not do: it turns `workspace:*` into `0.1.0` of
// @mixseg/core and @mixseg/imaging, which are private and on no registry, so the install fails.
// Instead this script stages a package of its own in <out>/mixseg-cli-package and packs that with
// npm:
// - dist/mixseg.mjs: the bundle (build.mjs), with the workspace packages and the pure-JavaScript
//   dependencies inlined;
// - dist/viewer/: the viewer's page, built here from the sources (never apps/viewer/dist, which
//   may be stale or in use), where `mixseg view` looks first (src/commands/view.ts);
// - package.json: written from scratch, with the bin, Node's range from the root package.json,
//   and as dependencies only the packages the bundle leaves out (sharp), at the versions installed
//   here from the lockfile.
// Progress goes to stderr; stdout gets the tarball's path alone. `--out <dir>` writes the staging
// folder and the tarball there instead of apps/cli/dist.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { bundleCli } from './build.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const readJson = (path) => JSON.parse(readFileSync(path, 'utf8'));
const cliPackage = readJson(join(here, 'package.json'));
const rootPackage = readJson(join(here, '..', '..', 'package.json'));

/** Stops with one line on stderr: what failed and what to do. */
function fail(message) {
  process.stderr.write(`pack.mjs: ${message}\n`);
  process.exit(1);
}

/** Runs a command, its output on stderr (stdout is the tarball's path); returns its stdout if asked. */
function run(command, args, { cwd, capture = false }) {
  const result = spawnSync(command, args, {
    cwd,
    stdio: ['ignore', capture ? 'pipe' : process.stderr, process.stderr],
    encoding: 'utf8',
  });
  if (result.error) fail(`cannot run ${command}: ${result.error.message}`);
  if (result.status !== 0) fail(`${command} ${args.join(' ')} failed (exit ${result.status}) in ${cwd}`);
  return result.stdout;
}

/** The version of a dependency installed in apps/cli/node_modules (pnpm put it there from the lockfile). */
function installedVersion(name) {
  if (cliPackage.dependencies?.[name] === undefined) {
    fail(`the bundle imports ${name}, which is not a dependency in apps/cli/package.json`);
  }
  const manifest = join(here, 'node_modules', name, 'package.json');
  if (!existsSync(manifest)) fail(`${name} is not installed (no ${manifest}); run pnpm install first`);
  const { version } = readJson(manifest);
  if (!/^\d+\.\d+\.\d+(-[\w.]+)?$/.test(version)) fail(`${name}: unexpected version ${version}`);
  return version;
}

const { values } = parseArgs({ options: { out: { type: 'string', default: join(here, 'dist') } } });
// a relative --out is taken from where `pnpm --filter @mixseg/cli pack:cli` was typed (INIT_CWD), as mixseg does
const out = resolve(
  process.env.npm_lifecycle_event === 'pack:cli' ? (process.env.INIT_CWD ?? '.') : '.',
  values.out,
);
const staging = join(out, 'mixseg-cli-package');
if (existsSync(staging)) {
  // removed only when an earlier run made it, never a folder of the same name that is not ours
  const previous = join(staging, 'package.json');
  if (!existsSync(previous) || readJson(previous).name !== cliPackage.name) {
    fail(`${staging} exists and is not a staging folder of pack.mjs; remove it or choose another --out`);
  }
  rmSync(staging, { recursive: true, force: true });
}
mkdirSync(join(staging, 'dist'), { recursive: true });

process.stderr.write(`bundling ${cliPackage.name} ${cliPackage.version}\n`);
const externals = await bundleCli(join(staging, 'dist', 'mixseg.mjs'));

process.stderr.write('building the viewer page\n');
const viewerDist = join(staging, 'dist', 'viewer');
run(
  'pnpm',
  [
    '--filter',
    '@mixseg/viewer',
    'run',
    'build',
    '--outDir',
    viewerDist,
    '--emptyOutDir',
    '--logLevel',
    'warn',
  ],
  { cwd: here },
);
if (!existsSync(join(viewerDist, 'index.html'))) {
  fail(`the viewer build wrote no ${join(viewerDist, 'index.html')}; try pnpm --filter @mixseg/viewer build`);
}

const manifest = {
  name: cliPackage.name,
  version: cliPackage.version,
  description: cliPackage.description,
  type: 'module',
  bin: { mixseg: 'dist/mixseg.mjs' },
  files: ['dist'],
  engines: { node: rootPackage.engines.node },
  dependencies: Object.fromEntries(externals.map((name) => [name, installedVersion(name)])),
};
writeFileSync(join(staging, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
writeFileSync(
  join(staging, 'README.md'),
  `# ${cliPackage.name}\n\n${cliPackage.description}.\n\n` +
    '```sh\nmixseg phantom -o sample\nmixseg segment sample/sub-phantom_T1w.nii.gz -o sample\nmixseg view sample\n```\n\n' +
    '`mixseg --help` lists the commands, `mixseg <command> --help` their options.\n',
);

const packed = JSON.parse(
  run('npm', ['pack', '--json', '--pack-destination', out], { cwd: staging, capture: true }),
);
const tarball = join(out, packed[0].filename);
process.stderr.write(
  `packed ${tarball} (${packed[0].entryCount} files, ${(packed[0].size / 1e6).toFixed(1)} MB; ` +
    `dependencies: ${externals.join(', ') || 'none'})\ninstall it with: npm install -g ${tarball}\n`,
);
process.stdout.write(`${tarball}\n`);
