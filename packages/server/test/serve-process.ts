/**
 * Test helper: the viewer's server as a process of its own, and the code that starts it. Run as a
 * script (`node --import tsx test/serve-process.ts <folder> <dist>`) it starts a server, prints
 * `{"url": ...}` on one line and serves until SIGTERM; its log goes to standard error. The tests
 * start several of these (two viewers on one folder), or one as user `nobody` when they run as
 * root (root reads every file whatever its mode, so only another user meets permission errors).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const PACKAGE_FOLDER = fileURLToPath(new URL('..', import.meta.url));
const SCRIPT = fileURLToPath(import.meta.url);

/** A server in a child process. */
export interface ServerProcess {
  url: string;
  /** Everything it wrote to standard error so far. */
  stderr: () => string;
  /**
   * Waits until its standard error holds `text` (the pipe may deliver a log line after the reply
   * that followed it) and returns all of it; rejects after `seconds` without it.
   */
  waitForStderr: (text: string, seconds?: number) => Promise<string>;
  /** Stops it (SIGTERM) and waits for it to exit. */
  stop: () => Promise<void>;
}

/**
 * Whether file modes can deny reading here: on Linux, for a process that is not root's. Root runs
 * the server as `nobody` (with util-linux's setpriv) for that, anyone else as themselves.
 */
export const PERMISSIONS_APPLY = process.platform === 'linux';

/**
 * Starts a server on `folder` in a child process; `withoutRoot` runs it as `nobody` when this
 * process is root's (so that file modes apply to it).
 */
export function startServerProcess(
  folder: string,
  distDir: string,
  withoutRoot = false,
): Promise<ServerProcess> {
  const asNobody = withoutRoot && process.getuid?.() === 0;
  const node = [process.execPath, '--import', 'tsx', SCRIPT, folder, distDir];
  const [command, ...args] = asNobody
    ? ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', ...node]
    : node;
  const child: ChildProcess = spawn(command!, args, {
    cwd: PACKAGE_FOLDER,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (chunk) => {
      stdout += chunk;
      const line = stdout.split('\n').find((text) => text.startsWith('{'));
      if (line) {
        resolve({
          url: (JSON.parse(line) as { url: string }).url,
          stderr: () => stderr,
          waitForStderr: async (text, seconds = 10) => {
            for (let waited = 0; !stderr.includes(text); waited += 20) {
              if (waited > seconds * 1000) throw new Error(`no ${JSON.stringify(text)} in stderr: ${stderr}`);
              await new Promise((wait) => setTimeout(wait, 20));
            }
            return stderr;
          },
          stop: async () => {
            child.kill('SIGTERM');
            await exited;
          },
        });
      }
    });
    child.once('exit', (code) =>
      reject(new Error(`server process exited (${code}) before serving: ${stderr}`)),
    );
  });
}

if (process.argv[1] === SCRIPT) {
  const { startViewerServer } = await import('../src/index.ts');
  const [folder, distDir] = process.argv.slice(2);
  const server = await startViewerServer({ folder: folder!, distDir: distDir! });
  process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);
  process.on('SIGTERM', () => {
    void server.close().then(() => process.exit(0));
  });
}
