// Bundles the mixseg command into one file, dist/mixseg.mjs, that runs with plain `node`.
// The same file is also the worker-thread entry (src/worker.ts runs when loaded as a worker).
// sharp is native (libvips binaries per platform), so it stays an ordinary dependency.
import { chmodSync } from 'node:fs';
import { build } from 'esbuild';

const outfile = new URL('./dist/mixseg.mjs', import.meta.url).pathname;
await build({
  entryPoints: [new URL('./src/main.ts', import.meta.url).pathname],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['sharp'],
  // commander and other CommonJS code call require() for Node built-ins, which an ES module
  // bundle only has through createRequire.
  banner: {
    js: "#!/usr/bin/env node\nimport { createRequire as __createRequire } from 'node:module';\nconst require = __createRequire(import.meta.url);",
  },
  legalComments: 'none',
  logLevel: 'warning',
});
chmodSync(outfile, 0o755);
