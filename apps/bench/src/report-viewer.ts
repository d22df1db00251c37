/** The report's viewer section: time to the first drawn subject and per step through a study. */
import { markdownTable } from './markdown-table.ts';
import { median } from './measure.ts';
import type { ReportSection } from './types.ts';
import type { ViewerOutput } from './viewer.ts';

/** Above this 1-minute load average when the test started, other work shared the machine and the section says so. */
const BUSY_LOAD = 0.5;

/** The viewer section, or a note that it was not run. */
export function viewerSection(output: ViewerOutput | undefined, source: string): ReportSection {
  const heading = '## Viewer';
  if (!output) {
    return {
      markdown: `${heading}\n\nNot run: \`${source}\` is missing (\`pnpm bench viewer\` writes it).\n`,
      charts: [],
      headline: [],
    };
  }
  const t = output.timings;
  const list = (values: readonly number[]): string => values.join(', ');
  const rows = [
    [
      'first drawn (URL to the first subject, fresh page)',
      String(t.firstDrawnMs.median),
      list(t.firstDrawnMs.runs),
      String(t.firstDrawnLongTaskMs.median),
      list(t.firstDrawnLongTaskMs.runs),
    ],
    [
      `step after a ${t.stepAfterDwellMs.dwellMs / 1000} s dwell (\`j\` to the next subject drawn)`,
      String(t.stepAfterDwellMs.median),
      list(t.stepAfterDwellMs.runs),
      String(Math.round(median(t.stepAfterDwellMs.longTaskMs))),
      list(t.stepAfterDwellMs.longTaskMs),
    ],
    [
      'step immediately (`j` as soon as a subject is drawn)',
      String(t.stepImmediateMs.median),
      list(t.stepImmediateMs.runs),
      String(Math.round(median(t.stepImmediateMs.longTaskMs))),
      list(t.stepImmediateMs.longTaskMs),
    ],
  ];
  const megabytes = Object.values(t.study.bytes).map((bytes) => (bytes / 1e6).toFixed(1));
  const load = output.loadAverage;
  // the load when the test started is other work; the highest during it counts the test's own
  // browser and server too (results written before testStart was recorded have the load before the build)
  const atStart = load.testStart ?? load.before;
  const busy =
    ` The 1-minute load average was ${atStart.toFixed(2)} when the test started and up to ` +
    `${load.max.toFixed(2)} during it (its own browser and server included) on ${output.machine.cores} cores` +
    (atStart > BUSY_LOAD ? ': other work shared the machine, so these times are noisy.' : '.');
  const lines = [
    heading,
    '',
    `\`apps/viewer/test/browser-timing.test.ts\` serves a study of ${t.study.subjects} subjects of ` +
      `${t.study.dims.join(' x ')} voxels at ${t.study.spacingMm[0]} mm (each an image, a label map and ` +
      `${t.study.probabilityMaps} probability maps; ${megabytes.join(', ')} MB gzipped for the image, the label ` +
      'map and one probability map) with the real server, opens it in headless Chromium on the built viewer ' +
      "and times, from the test's side, the first subject drawn on fresh pages and each `j` through the study; " +
      `long tasks are the main-thread tasks over 50 ms summed over each interval.${busy}`,
    '',
    markdownTable(
      ['measure', 'median ms', 'runs ms', 'long tasks ms (median)', 'long tasks ms (runs)'],
      rows,
      new Set([1, 2, 3, 4]),
    ),
    '',
  ];
  return { markdown: lines.join('\n'), charts: [], headline: [] };
}
