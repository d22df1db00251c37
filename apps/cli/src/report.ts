/**
 * `report.html`: one self-contained page for a whole batch, as fMRIPrep's and MRIQC's group reports:
 * a table and a grid of every subject's preview (linked by relative path, so the folder can be
 * moved or served as it is) with its class volumes. Volumes far from the batch's are flagged: the
 * robust z-score of each class volume, z = 0.6745 (x - median) / MAD (Iglewicz and Hoaglin's
 * modified z-score; with MAD = 0, (x - median) / (1.2533 mean absolute deviation)), beyond the
 * threshold. Failed subjects come first, then the subjects by their largest |z|, so what needs a
 * look is at the top. Every name and message is escaped as HTML.
 */
import { stat } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';
import { writeFileAtomic } from '@mixseg/imaging/node';
import type { ClassEntry, SummaryRow } from './outputs.ts';
import { escapeMarkup } from './preview-text.ts';

/** |z| beyond which a class volume is flagged. */
export const DEFAULT_OUTLIER_THRESHOLD = 3;
/** Fewer subjects with volumes than this: no z-scores (a median of two says nothing). */
const MIN_SUBJECTS = 3;

export interface BatchReportOptions {
  /** |z| beyond which a volume is flagged; default {@link DEFAULT_OUTLIER_THRESHOLD}. */
  threshold?: number;
}

/** Median, spread and count of one class's volumes over the batch. */
export interface VolumeStatistics {
  median: number | null;
  /** Median absolute deviation from the median, mL. */
  mad: number | null;
  /** Subjects with a volume. */
  n: number;
}

/** One subject as the report shows it. */
export interface ReportEntry {
  row: SummaryRow;
  /** The preview's path relative to the output folder, `/`-separated, or undefined when absent. */
  preview: string | undefined;
  /** Robust z-score of each class volume, by abbreviation; null when not assessed. */
  z: Record<string, number | null>;
  /** The classes whose |z| is beyond the threshold. */
  flagged: string[];
  /** Largest |z| (0 when none). */
  largest: number;
}

function median(sorted: readonly number[]): number {
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * Robust z-scores of `values` (null where a value is missing or fewer than three values exist), with
 * the median and MAD they were computed from.
 */
export function robustZScores(values: readonly (number | null)[]): {
  z: (number | null)[];
  statistics: VolumeStatistics;
} {
  const finite = values.filter((value): value is number => value !== null && Number.isFinite(value));
  if (finite.length < MIN_SUBJECTS) {
    const middle = finite.length > 0 ? median([...finite].sort((a, b) => a - b)) : null;
    return { z: values.map(() => null), statistics: { median: middle, mad: null, n: finite.length } };
  }
  const centre = median([...finite].sort((a, b) => a - b));
  const deviations = finite.map((value) => Math.abs(value - centre)).sort((a, b) => a - b);
  const mad = median(deviations);
  const meanDeviation = deviations.reduce((sum, d) => sum + d, 0) / deviations.length;
  // MAD = 0 (more than half the values equal): the mean absolute deviation, scaled to match a
  // standard deviation as 1.4826 MAD does; all equal: every z is 0
  const scale = mad > 0 ? mad / 0.6745 : 1.2533 * meanDeviation;
  const z = values.map((value) =>
    value === null || !Number.isFinite(value) ? null : scale > 0 ? (value - centre) / scale : 0,
  );
  return { z, statistics: { median: centre, mad, n: finite.length } };
}

/** The preview PNG beside a row's label map (`..._dseg.nii.gz` -> `..._preview.png`). */
function previewOf(outDir: string, row: SummaryRow): string | undefined {
  if (!row.dseg || !/_dseg\.nii(\.gz)?$/.test(row.dseg)) return undefined;
  const dseg = isAbsolute(row.dseg) ? row.dseg : join(outDir, row.dseg);
  return dseg.replace(/_dseg\.nii(\.gz)?$/, '_preview.png');
}

/** A relative file path as a URL path: each segment percent-encoded, `/` between them. */
function hrefOf(path: string): string {
  return path.split(sep).join('/').split('/').map(encodeURIComponent).join('/');
}

/**
 * The report's entries, in the order shown: failed subjects, then by largest |z| (ties by name).
 * `previews` maps each row's subject to its preview's relative path when that file exists.
 */
export function reportEntries(
  rows: readonly SummaryRow[],
  classes: readonly ClassEntry[],
  previews: ReadonlyMap<string, string>,
  threshold = DEFAULT_OUTLIER_THRESHOLD,
): { entries: ReportEntry[]; statistics: Record<string, VolumeStatistics> } {
  const assessed = (row: SummaryRow) => row.status !== 'failed';
  const statistics: Record<string, VolumeStatistics> = {};
  const zBy = new Map<SummaryRow, Record<string, number | null>>(rows.map((row) => [row, {}]));
  for (const c of classes) {
    const volumes = rows.map((row) => (assessed(row) ? (row.volumesMl[c.abbreviation] ?? null) : null));
    const { z, statistics: classStatistics } = robustZScores(volumes);
    statistics[c.abbreviation] = classStatistics;
    rows.forEach((row, i) => {
      zBy.get(row)![c.abbreviation] = z[i]!;
    });
  }
  const entries = rows.map((row): ReportEntry => {
    const z = zBy.get(row)!;
    const flagged = classes
      .map((c) => c.abbreviation)
      .filter((abbreviation) => Math.abs(z[abbreviation] ?? 0) > threshold);
    const largest = Math.max(0, ...Object.values(z).map((value) => Math.abs(value ?? 0)));
    return { row, preview: previews.get(row.subject), z, flagged, largest };
  });
  const rank = (entry: ReportEntry) => (entry.row.status === 'failed' ? 0 : entry.flagged.length > 0 ? 1 : 2);
  entries.sort(
    (a, b) =>
      rank(a) - rank(b) ||
      b.largest - a.largest ||
      (a.row.subject < b.row.subject ? -1 : a.row.subject > b.row.subject ? 1 : 0),
  );
  return { entries, statistics };
}

const STYLE = `
body { font-family: system-ui, 'DejaVu Sans', sans-serif; margin: 1.5rem; color: #1b1b1b; background: #fafafa; }
h1 { font-size: 1.4rem; margin: 0 0 .5rem; }
p { max-width: 60rem; line-height: 1.4; }
table { border-collapse: collapse; margin: 1rem 0; font-size: .9rem; }
th, td { padding: .25rem .6rem; border-bottom: 1px solid #ddd; text-align: right; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
td.name { max-width: 28rem; overflow-wrap: anywhere; white-space: normal; }
.outlier { color: #b00020; font-weight: bold; }
.failed { color: #b00020; }
.z { color: #666; font-size: .8em; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(340px, 1fr)); gap: 1rem; }
figure { margin: 0; background: #fff; border: 1px solid #ccc; border-radius: 4px; padding: .5rem; }
figure.flagged, figure.failed-subject { border: 2px solid #b00020; }
figure img { width: 100%; height: 420px; object-fit: cover; object-position: top; display: block; }
figure .missing { height: 6rem; display: flex; align-items: center; justify-content: center; color: #666; background: #eee; }
figcaption { font-size: .85rem; margin-top: .4rem; overflow-wrap: anywhere; }
figcaption strong { font-size: .95rem; }
`;

const formatMl = (value: number | null | undefined) =>
  value === null || value === undefined || !Number.isFinite(value) ? 'n/a' : value.toFixed(1);
const formatZ = (value: number | null | undefined) =>
  value === null || value === undefined ? '' : `${value >= 0 ? '+' : '−'}${Math.abs(value).toFixed(1)}`;

/** The whole page. */
export function batchReportHtml(
  entries: readonly ReportEntry[],
  statistics: Record<string, VolumeStatistics>,
  classes: readonly ClassEntry[],
  threshold = DEFAULT_OUTLIER_THRESHOLD,
): string {
  const e = escapeMarkup;
  const failed = entries.filter((entry) => entry.row.status === 'failed').length;
  const flagged = entries.filter((entry) => entry.flagged.length > 0).length;
  const assessed = Math.max(0, ...Object.values(statistics).map((s) => s.n));
  const anchor = (i: number) => `subject-${i + 1}`;
  const total = (row: SummaryRow) => {
    const volumes = classes.map((c) => row.volumesMl[c.abbreviation]);
    return volumes.every((v) => typeof v === 'number') ? volumes.reduce((s, v) => s! + v!, 0)! : null;
  };
  const volumeCell = (entry: ReportEntry, c: ClassEntry) => {
    const outlier = entry.flagged.includes(c.abbreviation);
    const z = formatZ(entry.z[c.abbreviation]);
    return `<td${outlier ? ' class="outlier"' : ''}>${e(formatMl(entry.row.volumesMl[c.abbreviation]))}${z ? ` <span class="z">z ${e(z)}</span>` : ''}</td>`;
  };
  const status = (entry: ReportEntry) =>
    entry.row.status === 'failed'
      ? '<span class="failed">failed</span>'
      : entry.flagged.length > 0
        ? `<span class="outlier">outlier: ${e(entry.flagged.join(', '))}</span>`
        : e(entry.row.status);
  const headerCells = classes.map((c) => `<th>${e(c.abbreviation)} mL</th>`).join('');
  const statisticsRows = ['median', 'MAD'].map(
    (what) =>
      `<tr><td>${what}</td>${classes
        .map((c) => {
          const s = statistics[c.abbreviation];
          return `<td>${e(formatMl(what === 'median' ? s?.median : s?.mad))}</td>`;
        })
        .join('')}<td></td><td></td></tr>`,
  );
  const tableRows = entries.map(
    (entry, i) =>
      `<tr><td class="name"><a href="#${anchor(i)}">${e(entry.row.subject)}</a></td>${classes
        .map((c) => volumeCell(entry, c))
        .join('')}<td>${e(formatMl(total(entry.row)))}</td><td>${status(entry)}</td></tr>`,
  );
  const cards = entries.map((entry, i) => {
    const { row } = entry;
    const picture = entry.preview
      ? `<a href="${e(hrefOf(entry.preview))}"><img src="${e(hrefOf(entry.preview))}" alt="preview of ${e(row.subject)}" loading="lazy"></a>`
      : `<div class="missing">${row.status === 'failed' ? 'no result' : 'no preview (segment with --preview)'}</div>`;
    const volumes = classes
      .map((c) => {
        const outlier = entry.flagged.includes(c.abbreviation);
        const z = formatZ(entry.z[c.abbreviation]);
        const text = `${e(c.abbreviation)} ${e(formatMl(row.volumesMl[c.abbreviation]))} mL${z ? ` (z ${e(z)})` : ''}`;
        return outlier ? `<span class="outlier">${text}</span>` : text;
      })
      .join(' · ');
    const detail =
      row.status === 'failed'
        ? `<br><span class="failed">${e(row.error ?? 'failed')}</span>`
        : `<br>${volumes}${row.converged === false ? '<br><span class="failed">EM did not converge</span>' : ''}`;
    const className = row.status === 'failed' ? 'failed-subject' : entry.flagged.length > 0 ? 'flagged' : '';
    return `<figure id="${anchor(i)}"${className ? ` class="${className}"` : ''}>${picture}<figcaption><strong>${e(row.subject)}</strong> ${status(entry)}${detail}</figcaption></figure>`;
  });
  const method =
    assessed >= MIN_SUBJECTS
      ? `Outliers: a class volume whose robust z-score, z = 0.6745 (volume − median) / MAD over the ${assessed} subjects with volumes, is beyond ±${threshold}.`
      : `Fewer than ${MIN_SUBJECTS} subjects with volumes: no outliers are assessed.`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>mixseg report: ${entries.length} subject(s)</title>
<style>${STYLE}</style>
</head>
<body>
<h1>mixseg segmentation report</h1>
<p>${entries.length} subject(s): ${failed} failed, ${flagged} with an outlying volume. ${e(method)} Failed subjects come first, then the subjects by their largest |z|. Click a picture for the full preview.</p>
<table>
<thead><tr><th>subject</th>${headerCells}<th>total mL</th><th>status</th></tr></thead>
<tbody>
${[...statisticsRows, ...tableRows].join('\n')}
</tbody>
</table>
<div class="grid">
${cards.join('\n')}
</div>
</body>
</html>
`;
}

/**
 * Writes `<outDir>/report.html` for the rows (a whole study's summary rows), linking each subject's
 * `<stem>_preview.png` beside its label map when that file exists. Returns the page's path.
 */
export async function writeBatchReport(
  outDir: string,
  rows: readonly SummaryRow[],
  classes: readonly ClassEntry[],
  options: BatchReportOptions = {},
): Promise<string> {
  const threshold = options.threshold ?? DEFAULT_OUTLIER_THRESHOLD;
  if (!(threshold > 0)) throw new RangeError(`threshold must be a number > 0, got ${threshold}`);
  const previews = new Map<string, string>();
  for (const row of rows) {
    const path = previewOf(outDir, row);
    if (!path) continue;
    const exists = await stat(path).then(
      (stats) => stats.isFile(),
      () => false,
    );
    if (exists) previews.set(row.subject, relative(outDir, path));
  }
  const { entries, statistics } = reportEntries(rows, classes, previews, threshold);
  const path = join(outDir, 'report.html');
  await writeFileAtomic(path, batchReportHtml(entries, statistics, classes, threshold));
  return path;
}
