import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { classTable, type SummaryRow } from '../src/outputs.ts';
import { reportEntries, robustZScores, writeBatchReport } from '../src/report.ts';
import { temporaryFolder } from './helpers.ts';

const classes = classTable(3);

function row(subject: string, volumes: [number, number, number] | null, dseg?: string): SummaryRow {
  const none = { CSF: null, GM: null, WM: null };
  return {
    subject,
    status: volumes ? 'done' : 'failed',
    inputs: [`/data/${subject}.nii.gz`],
    dseg: volumes ? (dseg ?? `/out/${subject}_dseg.nii.gz`) : null,
    volumesMl: volumes ? { CSF: volumes[0], GM: volumes[1], WM: volumes[2] } : none,
    partialVolumesMl: none,
    iterations: volumes ? 40 : null,
    converged: volumes ? true : null,
    seconds: 3,
    error: volumes ? null : `/data/${subject}.nii.gz: not a NIfTI file`,
  };
}

describe('robustZScores', () => {
  it('scales the distance to the median by the MAD (0.6745 (x - median) / MAD)', () => {
    const { z, statistics } = robustZScores([10, 11, 12, 13, 14, 40]);
    expect(statistics.median).toBe(12.5);
    expect(statistics.mad).toBe(1.5);
    expect(z[5]).toBeCloseTo((0.6745 * (40 - 12.5)) / 1.5, 10);
    expect(Math.abs(z[2]!)).toBeLessThan(1);
  });

  it('falls back to the mean absolute deviation when the MAD is 0, and gives 0 when all are equal', () => {
    const { z } = robustZScores([5, 5, 5, 5, 9]);
    // median 5, MAD 0, mean absolute deviation 0.8
    expect(z[4]).toBeCloseTo(4 / (1.2533 * 0.8), 10);
    expect(robustZScores([7, 7, 7]).z).toEqual([0, 0, 0]);
  });

  it('assesses nothing with fewer than three values, and skips missing ones', () => {
    expect(robustZScores([1, 100]).z).toEqual([null, null]);
    expect(robustZScores([1, null, 2, 3]).z[1]).toBeNull();
  });
});

describe('reportEntries', () => {
  it('puts failed subjects first, then outliers, then the rest by their largest |z|', () => {
    const rows = [
      row('sub-01', [300, 650, 500]),
      row('sub-02', [310, 660, 505]),
      row('sub-03', [290, 640, 495]),
      row('sub-04', [305, 655, 900]),
      row('sub-05', null),
      row('sub-06', [320, 645, 510]),
    ];
    const { entries } = reportEntries(rows, classes, new Map());
    expect(entries.map((e) => e.row.subject).slice(0, 2)).toEqual(['sub-05', 'sub-04']);
    expect(entries[1]!.flagged).toEqual(['WM']);
    expect(entries.slice(2).every((e) => e.flagged.length === 0)).toBe(true);
    const rest = entries.slice(2).map((e) => e.largest);
    expect(rest).toEqual([...rest].sort((a, b) => b - a));
  });
});

describe('writeBatchReport', () => {
  let folder: { path: string; remove: () => Promise<void> };
  beforeEach(async () => {
    folder = await temporaryFolder();
  });
  afterEach(async () => {
    await folder.remove();
  });

  it('writes a self-contained page linking each preview by relative path, BIDS subfolders included', async () => {
    const out = folder.path;
    const rows: SummaryRow[] = [];
    for (let i = 1; i <= 6; i++) {
      const subject = `sub-0${i}`;
      const anat = join(out, subject, 'anat');
      await mkdir(anat, { recursive: true });
      const wm = i === 4 ? 900 : 500 + i;
      rows.push(row(`${subject}_T1w`, [300 + i, 650 - i, wm], join(anat, `${subject}_T1w_dseg.nii.gz`)));
      if (i !== 6) await writeFile(join(anat, `${subject}_T1w_preview.png`), 'png');
    }
    rows.push(row('sub-07_T1w', null));
    const path = await writeBatchReport(out, rows, classes);
    expect(path).toBe(join(out, 'report.html'));
    const html = await readFile(path, 'utf8');
    expect(html).toContain('<img src="sub-01/anat/sub-01_T1w_preview.png"');
    expect(html).toContain('href="sub-04/anat/sub-04_T1w_preview.png"');
    // no preview file: said, not linked
    expect(html).not.toContain('sub-06_T1w_preview.png');
    expect(html).toContain('no preview (segment with --preview)');
    // nothing fetched from elsewhere
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(html).not.toMatch(/<link|<script/);
    // failed first, then the outlier, flagged with its class
    const order = [
      ...html.matchAll(/<figure id="subject-\d+"[^>]*><(?:a|div)[^>]*>[\s\S]*?<strong>([^<]+)<\/strong>/g),
    ].map((match) => match[1]);
    expect(order.slice(0, 2)).toEqual(['sub-07_T1w', 'sub-04_T1w']);
    expect(order).toHaveLength(7);
    expect(html).toMatch(/sub-04_T1w<\/strong> <span class="outlier">outlier: WM<\/span>/);
    expect(html).toContain('not a NIfTI file');
  });

  it('escapes every name and message and percent-encodes paths', async () => {
    const out = folder.path;
    const name = `<script>alert("x")</script>&'#1`;
    const rows = [
      row(name, [1, 2, 3], join(out, 'a b#1_dseg.nii.gz')),
      row('b', [1, 2, 3]),
      row('c', [1, 2, 3]),
      { ...row('<img src=x onerror=alert(1)>', null), error: '<b>bad</b> & worse' },
    ];
    await writeFile(join(out, 'a b#1_preview.png'), 'png');
    const html = await readFile(await writeBatchReport(out, rows, classes), 'utf8');
    expect(html).not.toContain('<script>alert');
    expect(html).not.toContain('<img src=x');
    expect(html).not.toContain('<b>bad</b>');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;#1');
    expect(html).toContain('&lt;b&gt;bad&lt;/b&gt; &amp; worse');
    expect(html).toContain('src="a%20b%231_preview.png"');
  });

  it('assesses no outliers below three subjects and says so', async () => {
    const html = await readFile(
      await writeBatchReport(folder.path, [row('a', [1, 2, 3]), row('b', [100, 200, 300])], classes),
      'utf8',
    );
    expect(html).toContain('no outliers are assessed');
    expect(html).not.toContain('class="outlier"');
  });

  it('refuses a threshold that is not positive', async () => {
    await expect(writeBatchReport(folder.path, [], classes, { threshold: 0 })).rejects.toThrow(RangeError);
  });
});
