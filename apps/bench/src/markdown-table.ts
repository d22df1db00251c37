/** Markdown (GitHub) tables for the report. */

/**
 * A pipe table; columns listed in `rightAligned` (by index) are right-aligned, as numbers read
 * best. Pipes inside cells are escaped; missing cells are left empty.
 */
export function markdownTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  rightAligned: ReadonlySet<number> = new Set(),
): string {
  const cell = (text: string): string => text.replaceAll('|', '\\|').replaceAll('\n', ' ');
  const line = (cells: readonly string[]): string =>
    `| ${headers.map((_, c) => cell(cells[c] ?? '')).join(' | ')} |`;
  const rule = `| ${headers.map((_, c) => (rightAligned.has(c) ? '---:' : '---')).join(' | ')} |`;
  return [line(headers), rule, ...rows.map(line)].join('\n');
}
