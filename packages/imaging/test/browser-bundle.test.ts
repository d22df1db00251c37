/**
 * The browser entry (src/index.ts) must bundle for a browser as it is: no Node built-in and no
 * sharp anywhere in what it imports. esbuild with `platform: 'browser'` refuses to resolve a Node
 * built-in (`node:fs`, `fs`, ...) unless it is marked external, and nothing is marked external
 * here, so any such import fails the build.
 */
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const entry = fileURLToPath(new URL('../src/index.ts', import.meta.url));

describe('the browser entry', () => {
  it('bundles for the browser with no Node built-ins and no sharp', async () => {
    const result = await build({
      entryPoints: [entry],
      platform: 'browser',
      format: 'esm',
      bundle: true,
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    expect(result.errors).toEqual([]);
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.some((path) => path.endsWith('src/index.ts'))).toBe(true);
    expect(inputs.filter((path) => /(^|[/\\])sharp[/\\]|^node:/.test(path))).toEqual([]);
    const code = result.outputFiles.map((file) => file.text).join('\n');
    expect(code).not.toMatch(/\bsharp\b/);
    expect(code).not.toMatch(/["']node:[a-z_/]+["']/);
  });

  it('fails the build when a Node built-in is imported (the check above is not vacuous)', async () => {
    const attempt = build({
      stdin: { contents: "import { readFile } from 'node:fs/promises'; export { readFile };", loader: 'ts' },
      platform: 'browser',
      bundle: true,
      write: false,
      logLevel: 'silent',
    });
    await expect(attempt).rejects.toThrow(/node:fs\/promises/);
  });
});
