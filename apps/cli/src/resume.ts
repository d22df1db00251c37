/**
 * What a rerun does with a subject's earlier outputs. The sidecar marks a subject complete; it
 * records the options (the segmentation record, see settings.ts) and lists the files it wrote with
 * their sizes. A subject is skipped when its sidecar's options are this run's and every file it
 * lists, and every file this run would write, is there with its size; it is refused (a failed row,
 * nothing touched) when its options differ, unless --overwrite; otherwise it runs again.
 */
import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { changedOptions } from '@mixseg/imaging';
import type { ClassEntry, SubjectOutputs, SummaryRow } from './outputs.ts';
import type { SegmentSettings } from './settings.ts';

/** One file of a sidecar's `Outputs`: its name (relative to the sidecar's folder) and size. */
export interface OutputEntry {
  Path: string;
  Bytes: number;
}

/** A subject's earlier sidecar, read. */
export interface EarlierRun {
  sidecar: Record<string, unknown>;
  /** Listed outputs, as absolute paths. */
  outputs: string[];
}

/** The earlier sidecar of a subject, or undefined when there is none (or it is unreadable). */
export async function earlierRun(outputs: SubjectOutputs): Promise<EarlierRun | undefined> {
  let sidecar: Record<string, unknown>;
  try {
    sidecar = JSON.parse(await readFile(outputs.sidecar, 'utf8'));
  } catch {
    return undefined;
  }
  const folder = dirname(outputs.sidecar);
  const listed = Array.isArray(sidecar['Outputs']) ? (sidecar['Outputs'] as OutputEntry[]) : [];
  return { sidecar, outputs: listed.map((entry) => join(folder, entry.Path)) };
}

/** How the options of an earlier run differ from this run's, as text; undefined when they do not. */
export function optionDifferences(
  previous: Record<string, unknown>,
  settings: SegmentSettings,
): string | undefined {
  const differences = changedOptions(previous, settings.record).map(
    (d) => `--${d.flag} ${JSON.stringify(d.previous ?? null)} there, ${JSON.stringify(d.current)} here`,
  );
  const model = settings.model?.path ?? null;
  if ((previous['model'] ?? null) !== model) {
    differences.push(
      `--model ${JSON.stringify(previous['model'] ?? null)} there, ${JSON.stringify(model)} here`,
    );
  }
  return differences.length > 0 ? differences.join('; ') : undefined;
}

/** Whether every listed file is there with its recorded size (a sidecar without a list: only that they exist). */
export async function outputsIntact(run: EarlierRun, wanted: readonly string[]): Promise<boolean> {
  const listed = Array.isArray(run.sidecar['Outputs']) ? (run.sidecar['Outputs'] as OutputEntry[]) : [];
  const folder = wanted.length > 0 ? dirname(wanted[0]!) : '';
  const sizes = new Map(listed.map((entry) => [join(folder, entry.Path), entry.Bytes]));
  for (const path of new Set([...run.outputs, ...wanted])) {
    try {
      const info = await stat(path);
      const expected = sizes.get(path);
      if (expected !== undefined && info.size !== expected) return false;
    } catch {
      return false;
    }
  }
  return true;
}

/** The decision for one subject. */
export type ResumeDecision =
  | { action: 'skip'; row: SummaryRow }
  | { action: 'refuse'; row: SummaryRow }
  | { action: 'run'; earlier: EarlierRun | undefined };

/**
 * What to do with a subject: skip it (complete, same options), refuse it (outputs of other
 * options, without --overwrite), or run it (nothing there, incomplete, missing outputs, or
 * --overwrite); a run gets the earlier sidecar so that it can replace those outputs as a unit.
 */
export async function resumeDecision(
  base: Pick<SummaryRow, 'subject' | 'inputs' | 'dseg'>,
  outputs: SubjectOutputs,
  settings: SegmentSettings,
  classes: readonly ClassEntry[],
): Promise<ResumeDecision> {
  const earlier = await earlierRun(outputs);
  if (!earlier) return { action: 'run', earlier: undefined };
  if (settings.overwrite) return { action: 'run', earlier };
  const previous = (earlier.sidecar['Options'] ?? {}) as Record<string, unknown>;
  const described = optionDifferences(previous, settings);
  const none = Object.fromEntries(classes.map((c) => [c.abbreviation, null]));
  if (described) {
    return {
      action: 'refuse',
      row: {
        ...base,
        status: 'failed',
        refused: true,
        volumesMl: none,
        partialVolumesMl: none,
        iterations: null,
        converged: null,
        seconds: null,
        error: `${outputs.sidecar}: outputs exist from a run with other options (${described}); use --overwrite to replace them, or another --out-dir`,
      },
    };
  }
  // same options: done when everything listed and wanted is intact; else it runs again (the same
  // options give the same results, so nothing of value is replaced)
  if (!(await outputsIntact(earlier, outputs.all))) return { action: 'run', earlier };
  const recorded = (earlier.sidecar['Classes'] ?? []) as {
    Abbreviation: string;
    VolumeMl: number;
    PartialVolumeMl?: number | null;
  }[];
  const volume = (abbreviation: string, key: 'VolumeMl' | 'PartialVolumeMl') =>
    recorded.find((r) => r.Abbreviation === abbreviation)?.[key] ?? null;
  const iterations = (earlier.sidecar['Iterations'] ?? {}) as { Mixture?: number; Spatial?: number };
  const timings = (earlier.sidecar['Timings'] ?? {}) as { Total?: number };
  return {
    action: 'skip',
    row: {
      ...base,
      status: 'skipped',
      volumesMl: Object.fromEntries(classes.map((c) => [c.abbreviation, volume(c.abbreviation, 'VolumeMl')])),
      partialVolumesMl: Object.fromEntries(
        classes.map((c) => [c.abbreviation, volume(c.abbreviation, 'PartialVolumeMl')]),
      ),
      iterations: (iterations.Mixture ?? 0) + (iterations.Spatial ?? 0),
      converged: typeof earlier.sidecar['Converged'] === 'boolean' ? earlier.sidecar['Converged'] : null,
      seconds: timings.Total ?? null,
      error: null,
    },
  };
}
