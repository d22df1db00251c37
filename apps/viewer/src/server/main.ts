/**
 * `pnpm --filter @mixseg/viewer serve <results-folder> [--port N]` (the script builds the viewer first):
 * serves this app's built page (dist) and one results folder on 127.0.0.1 with @mixseg/server, and
 * prints the URL (as `mixseg view` does).
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startViewerServer } from '@mixseg/server';

const DIST_DIR = fileURLToPath(new URL('../../dist', import.meta.url));

const args = process.argv.slice(2);
const portIndex = args.indexOf('--port');
const port = portIndex >= 0 ? Number(args.splice(portIndex, 2)[1]) : 0;
const folder = args[0];
if (folder === undefined || args.length > 1 || !Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write('usage: pnpm --filter @mixseg/viewer serve <results-folder> [--port N]\n');
  process.exit(2);
}
try {
  // pnpm runs scripts in the package's folder; INIT_CWD is where the command was typed.
  const server = await startViewerServer({
    folder: resolve(process.env['INIT_CWD'] ?? process.cwd(), folder),
    port,
    distDir: DIST_DIR,
  });
  process.stdout.write(`mixseg viewer: ${server.url}  (serving ${folder}; Ctrl-C stops)\n`);
  const stop = () => {
    void server.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(1);
}
