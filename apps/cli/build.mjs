// Bundles the mixseg command into one file, dist/mixseg.mjs, that runs with plain `node`.
// The same file is also the worker-thread entry (src/worker.ts runs when loaded as a worker).
// @mixseg/core, @mixseg/imaging, @mixseg/server and the pure-JavaScript dependencies are inlined
// (the viewer's page is no code of the bundle: pack.mjs ships its built files beside it); sharp
// is native (libvips binaries per platform), so it stays an ordinary dependency, and pack.mjs
// names it in the packed package.json. `node build.mjs` builds; pack.mjs imports bundleCli to
// bundle into its staging folder.
import { chmodSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

/** Packages left out of the bundle: they must be dependencies of the installed CLI. */
export const EXTERNAL_PACKAGES = ['sharp'];

/**
 * Bundles src/main.ts into `outfile` (executable) and returns the bare imports left in it, which
 * are the packages of EXTERNAL_PACKAGES that the code uses (Node's built-in modules left out).
 */
export async function bundleCli(outfile) {
  const result = await build({
    entryPoints: [fileURLToPath(new URL('./src/main.ts', import.meta.url))],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: EXTERNAL_PACKAGES,
    // commander and other CommonJS code call require() for Node built-ins, which an ES module
    // bundle only has through createRequire.
    banner: {
      js: "#!/usr/bin/env node\nimport { createRequire as __createRequire } from 'node:module';\nconst require = __createRequire(import.meta.url);",
    },
    legalComments: 'none',
    logLevel: 'warning',
    metafile: true,
  });
  chmodSync(outfile, 0o755);
  const imports = Object.values(result.metafile.outputs).flatMap((output) => output.imports);
  // 'sharp' from 'sharp/lib/x', '@scope/name' from '@scope/name/x'
  const packageOf = (path) => path.split('/', path.startsWith('@') ? 2 : 1).join('/');
  const packages = imports.filter((entry) => entry.external && !isBuiltin(entry.path));
  return [...new Set(packages.map((entry) => packageOf(entry.path)))].sort();
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await bundleCli(fileURLToPath(new URL('./dist/mixseg.mjs', import.meta.url)));
}
