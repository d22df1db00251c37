/**
 * `mixseg view [folder]`: serves the built web viewer and one results folder on this machine and
 * prints the URL, until Ctrl-C. It builds nothing: the page is apps/viewer's production build,
 * shipped beside the bundle in the packed CLI (pack.mjs), or else found in the checkout this command
 * runs from (`pnpm --filter @mixseg/viewer build`), and this command hands its folder to the server
 * (@mixseg/server, Node only), which knows no app's layout. The CLI imports no code of the viewer:
 * only its built files.
 */
import { stat } from 'node:fs/promises';
import { isIP } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startViewerServer } from '@mixseg/server';
import type { Command } from 'commander';
import { type CliIo, EXIT_FAILURE, UsageError } from '../cli-io.ts';
import { integerIn } from '../options.ts';
import { DEFAULT_OUT_DIR } from './segment.ts';

/** The command to build the page, as the error message gives it. */
export const VIEWER_BUILD_COMMAND = 'pnpm --filter @mixseg/viewer build';

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/**
 * The repository this module lives in: the nearest folder above `from` holding
 * pnpm-workspace.yaml. The same from the sources (apps/cli/src/commands) and from the bundle
 * (apps/cli/dist/mixseg.mjs), so the viewer's build is found either way.
 */
export async function repositoryRoot(from: string): Promise<string | undefined> {
  let folder = from;
  for (;;) {
    if (await isFile(join(folder, 'pnpm-workspace.yaml'))) return folder;
    const parent = dirname(folder);
    if (parent === folder) return undefined;
    folder = parent;
  }
}

/** The folder beside the bundle where the packed CLI ships the viewer's page (pack.mjs writes it). */
export const SHIPPED_VIEWER_FOLDER = 'viewer';

/**
 * The page `mixseg view` serves without `--dist`: the copy shipped beside the bundle when this is
 * the installed, packed CLI (`dist/viewer` beside `dist/mixseg.mjs`), else `apps/viewer/dist` of
 * the checkout this command runs from; undefined outside both. `moduleFolder` is this module's
 * folder (the bundle's, once bundled).
 */
export async function defaultViewerDist(
  moduleFolder: string = dirname(fileURLToPath(import.meta.url)),
): Promise<string | undefined> {
  const shipped = join(moduleFolder, SHIPPED_VIEWER_FOLDER);
  if (await isFile(join(shipped, 'index.html'))) return shipped;
  const root = await repositoryRoot(moduleFolder);
  return root === undefined ? undefined : join(root, 'apps', 'viewer', 'dist');
}

/** Loopback addresses and names: the only ones other machines cannot reach. */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  if (bare === 'localhost') return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (isIP(bare) === 6) return bare === '::1' || /^::ffff:127\./i.test(bare);
  return false;
}

interface ViewOptions {
  host?: string;
  port?: number;
  dist?: string;
}

async function runView(
  folderArgument: string,
  { host = '127.0.0.1', port = 0, dist }: ViewOptions,
  io: CliIo,
): Promise<number> {
  const folder = resolve(io.cwd, folderArgument);
  try {
    if (!(await stat(folder)).isDirectory()) throw new UsageError(`${folderArgument}: not a folder`);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(
      `${folderArgument}: no such folder${folderArgument === DEFAULT_OUT_DIR ? ` (the default; give the results folder, e.g. mixseg view path/to/results)` : ''}`,
    );
  }

  const distDir = dist !== undefined ? resolve(io.cwd, dist) : await defaultViewerDist();
  if (distDir === undefined || !(await isFile(join(distDir, 'index.html')))) {
    io.stderr(
      distDir === undefined
        ? `mixseg view: the viewer's page is not found: it is not installed beside this mixseg, which does not run from a checkout of the repository either (give the built page with --dist)\n`
        : `mixseg view: the viewer's page is not built (no ${join(distDir, 'index.html')}); build it once with\n  ${VIEWER_BUILD_COMMAND}\n${dist === undefined ? `in ${dirname(dirname(dirname(distDir)))}, then run mixseg view again\n` : ''}`,
    );
    return EXIT_FAILURE;
  }

  if (!isLoopback(host)) {
    io.stderr(
      `mixseg view: warning: --host ${host} is not a loopback address: anyone who can reach this machine ` +
        'on that address can read the folder and write review.tsv (there is no password). Prefer the default ' +
        '127.0.0.1 with an SSH tunnel (ssh -L PORT:127.0.0.1:PORT host)\n',
    );
  }

  let server: Awaited<ReturnType<typeof startViewerServer>>;
  try {
    server = await startViewerServer({ folder, host: host, port: port, distDir });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'EADDRINUSE'
        ? `port ${port} is in use (another --port, or 0 for any free one)`
        : code === 'EADDRNOTAVAIL'
          ? `${host} is not an address of this machine`
          : (error as Error).message;
    io.stderr(`mixseg view: cannot serve on ${host}:${port}: ${reason}\n`);
    return EXIT_FAILURE;
  }

  io.stdout(`mixseg viewer: ${server.url}  (serving ${folder}; Ctrl-C stops)\n`);
  await new Promise<void>((stopped) => {
    const stop = () => {
      if (io.handleSignals) {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
      io.signal?.removeEventListener('abort', stop);
      void server.close().then(stopped);
    };
    if (io.handleSignals) {
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    }
    if (io.signal?.aborted) stop();
    else io.signal?.addEventListener('abort', stop, { once: true });
  });
  return 0;
}

export function viewCommand(program: Command, io: CliIo, setExitCode: (code: number) => void): void {
  program
    .command('view')
    .description(
      'look at results in the web viewer: serves the viewer and one results folder on this machine and prints the URL (Ctrl-C stops)',
    )
    .argument(
      '[folder]',
      `results folder (what segment writes; default: ${DEFAULT_OUT_DIR}, segment's default output)`,
    )
    .option(
      '--host <address>',
      'address to listen on (default: 127.0.0.1, this machine only). Any other address is open to the network with no ' +
        "password, and the server answers only requests addressed to it (this machine's address on that network, not 0.0.0.0); " +
        'from another machine, an SSH tunnel to the default is safer',
    )
    .option('-p, --port <n>', 'port (default: any free port; fix one for an SSH tunnel)', integerIn(0, 65535))
    .option(
      '--dist <dir>',
      `the built viewer (default: the page installed with mixseg, or apps/viewer/dist of this checkout, made by ${VIEWER_BUILD_COMMAND})`,
    )
    .action(async (folder: string | undefined, options: ViewOptions, command: Command) => {
      try {
        setExitCode(await runView(folder ?? DEFAULT_OUT_DIR, options, io));
      } catch (error) {
        if (error instanceof UsageError)
          command.error(`error: ${error.message}`, { exitCode: 2, code: 'mixseg.usage' });
        throw error;
      }
    });
}
