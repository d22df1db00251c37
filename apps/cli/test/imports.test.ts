import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SOURCES = fileURLToPath(new URL('../src/', import.meta.url));

function sourceFiles(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sourceFiles(join(folder, entry.name))
      : entry.name.endsWith('.ts')
        ? [join(folder, entry.name)]
        : [],
  );
}

describe('the CLI imports packages, never another app', () => {
  it('has no import of @mixseg/viewer or of a path into apps/', () => {
    const offending = sourceFiles(SOURCES).flatMap((file) =>
      [...readFileSync(file, 'utf8').matchAll(/\bfrom\s+'([^']+)'|\bimport\(\s*'([^']+)'/g)]
        .map((match) => (match[1] ?? match[2])!)
        .filter(
          (specifier) =>
            specifier.startsWith('@mixseg/viewer') || /^(\.\.\/)+(viewer|bench)\b/.test(specifier),
        )
        .map((specifier) => `${relative(SOURCES, file)}: ${specifier}`),
    );
    expect(offending).toEqual([]);
  });
});
