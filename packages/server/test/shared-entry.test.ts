import { readFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as server from '../src/index.ts';
import * as shared from '../src/shared.ts';

const SOURCES = fileURLToPath(new URL('../src/', import.meta.url));

/** Every module `entry` reaches through its imports and re-exports, with what each imports. */
function importGraph(entry: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const visit = (file: string) => {
    if (graph.has(file)) return;
    const text = readFileSync(file, 'utf8');
    // `import 'x'`, `import ... from 'x'`, `export ... from 'x'` and `import('x')`
    const pattern =
      /^\s*import\s+'([^']+)'|^\s*(?:import|export)\b[^'";]*?\bfrom\s+'([^']+)'|\bimport\(\s*'([^']+)'/gm;
    const specifiers = [...text.matchAll(pattern)].map((match) => (match[1] ?? match[2] ?? match[3])!);
    graph.set(file, specifiers);
    for (const specifier of specifiers) {
      if (specifier.startsWith('.')) visit(join(dirname(file), specifier));
    }
  };
  visit(entry);
  return graph;
}

describe('@mixseg/server/shared', () => {
  it('reaches only modules of this package, none of them importing Node built-ins or packages', () => {
    const graph = importGraph(join(SOURCES, 'shared.ts'));
    const outside = [...graph].flatMap(([file, specifiers]) =>
      specifiers
        .filter((specifier) => !specifier.startsWith('./') || isBuiltin(specifier))
        .map((specifier) => `${relative(SOURCES, file)}: ${specifier}`),
    );
    expect(outside).toEqual([]);
    expect([...graph.keys()].map((file) => relative(SOURCES, file)).sort()).toEqual([
      'folder-listing.ts',
      'review-file.ts',
      'shared.ts',
    ]);
  });

  it('exports the same values as the Node entry does under the same names', () => {
    const serverExports: Record<string, unknown> = { ...server };
    for (const [name, value] of Object.entries(shared)) expect(serverExports[name], name).toBe(value);
  });
});
