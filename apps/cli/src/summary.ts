/**
 * The output folder's study-wide files: `dseg.tsv` (the class table, which every subject of the
 * folder shares: a run with another one is refused), `summary.tsv` / `summary.json` (one row per
 * subject, merged with the rows already there, so a rerun of a few subjects keeps the others), and
 * `dataset_description.json` (BIDS-Derivatives).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '@mixseg/imaging/node';
import { UsageError } from './cli-io.ts';
import { type ClassEntry, dsegTsv, type SummaryRow, summaryRecord, summaryTsv } from './outputs.ts';
import { SOFTWARE } from './version.ts';

/** The abbreviations of a dseg.tsv, in label order. */
function abbreviationsOf(text: string): string[] {
  const [header, ...rows] = text.trim().split('\n');
  const columns = (header ?? '').split('\t');
  const column = columns.indexOf('abbreviation');
  return rows.filter((row) => row.trim() !== '').map((row) => row.split('\t')[column] ?? '');
}

/**
 * Writes the folder's dseg.tsv, or checks the one there. @throws UsageError when the folder's
 * classes are not this run's (its results would be read with the wrong names)
 */
export async function writeClassTable(outDir: string, classes: readonly ClassEntry[]): Promise<void> {
  const path = join(outDir, 'dseg.tsv');
  let existing: string | undefined;
  try {
    existing = await readFile(path, 'utf8');
  } catch {
    existing = undefined;
  }
  const wanted = classes.map((c) => c.abbreviation);
  if (existing !== undefined) {
    const there = abbreviationsOf(existing);
    if (there.join(',') !== wanted.join(',')) {
      throw new UsageError(
        `${path} holds the classes ${there.join(', ')} of earlier results; this run has ${wanted.join(', ')}: ` +
          'use another --out-dir (one folder holds one class table)',
      );
    }
  }
  await writeFileAtomic(path, dsegTsv(classes));
}

/** A summary.json row back as a row (the `<ABBR>_ml` and `<ABBR>_pve_ml` columns by class). */
function rowOf(record: Record<string, unknown>, classes: readonly ClassEntry[]): SummaryRow {
  const volume = (key: string) => (typeof record[key] === 'number' ? (record[key] as number) : null);
  return {
    subject: String(record['subject']),
    status: (record['status'] as SummaryRow['status']) ?? 'done',
    inputs: Array.isArray(record['inputs']) ? (record['inputs'] as string[]) : [],
    dseg: typeof record['dseg'] === 'string' ? (record['dseg'] as string) : null,
    volumesMl: Object.fromEntries(classes.map((c) => [c.abbreviation, volume(`${c.abbreviation}_ml`)])),
    partialVolumesMl: Object.fromEntries(
      classes.map((c) => [c.abbreviation, volume(`${c.abbreviation}_pve_ml`)]),
    ),
    iterations: typeof record['iterations'] === 'number' ? (record['iterations'] as number) : null,
    converged: typeof record['converged'] === 'boolean' ? (record['converged'] as boolean) : null,
    seconds: volume('seconds'),
    error: typeof record['error'] === 'string' ? (record['error'] as string) : null,
  };
}

/**
 * This run's rows merged into the summary already in the folder: a subject of this run replaces its
 * earlier row (unless it was refused, its results untouched), the others stay, in their order,
 * this run's new subjects after them.
 */
export async function mergedRows(
  jsonPath: string,
  rows: readonly SummaryRow[],
  classes: readonly ClassEntry[],
): Promise<SummaryRow[]> {
  let earlier: SummaryRow[] = [];
  try {
    const parsed = JSON.parse(await readFile(jsonPath, 'utf8')) as { subjects?: Record<string, unknown>[] };
    earlier = (parsed.subjects ?? []).map((record) => rowOf(record, classes));
  } catch {
    earlier = [];
  }
  const current = new Map(rows.map((row) => [row.subject, row]));
  // a refused subject's earlier results are untouched: their row stays
  const merged = earlier.map((row) => {
    const now = current.get(row.subject);
    return now && !now.refused ? now : row;
  });
  const seen = new Set(earlier.map((row) => row.subject));
  for (const row of rows) if (!seen.has(row.subject)) merged.push(row);
  return merged;
}

/** Counts of a set of rows. */
export function countRows(rows: readonly SummaryRow[]) {
  return {
    total: rows.length,
    done: rows.filter((r) => r.status === 'done').length,
    skipped: rows.filter((r) => r.status === 'skipped').length,
    failed: rows.filter((r) => r.status === 'failed').length,
  };
}

/**
 * Writes summary[_shard-IofN].tsv and .json, merged with what the folder holds; returns the TSV's
 * path, the JSON document (whose counts are this run's, and whose subjects are the study's) and the
 * merged rows.
 */
export async function writeSummary(
  outDir: string,
  shard: { index: number; count: number },
  rows: readonly SummaryRow[],
  classes: readonly ClassEntry[],
): Promise<{ tsvPath: string; document: Record<string, unknown>; merged: SummaryRow[] }> {
  const suffix = shard.count > 1 ? `_shard-${shard.index}of${shard.count}` : '';
  const jsonPath = join(outDir, `summary${suffix}.json`);
  const tsvPath = join(outDir, `summary${suffix}.tsv`);
  const merged = await mergedRows(jsonPath, rows, classes);
  const document = {
    software: { name: SOFTWARE.Name, version: SOFTWARE.Version },
    outDir,
    shard,
    counts: countRows(rows),
    classes,
    subjects: merged.map(summaryRecord),
  };
  await writeFileAtomic(tsvPath, summaryTsv(merged, classes));
  await writeFileAtomic(jsonPath, `${JSON.stringify(document, null, 2)}\n`);
  return { tsvPath, document, merged };
}
