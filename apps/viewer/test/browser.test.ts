/**
 * End-to-end tests in a real browser: Debian's Chromium driven by playwright-core, loading the
 * production build through the real server. NiiVue renders through SwiftShader (WebGL2 on the
 * CPU). Screenshots are kept in apps/viewer/test-results/ (git-ignored) for people to look at.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { encodeNifti1, labelMapImage, parseNifti, readImageChannels, segment } from '@mixseg/imaging/node';
import { startViewerServer, type ViewerServer } from '@mixseg/server';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, HAS_CHROMIUM, launchChromium, setRange, VIEWER_DIST } from './chromium.ts';
import { FIXTURE_LABELS, type FixtureSubject, writeResultsFolder } from './results-fixture.ts';

const XSS_NAME = '<img src=x onerror=alert(1)>';

type Rgb = [number, number, number];

function hex(colour: string): Rgb {
  return [1, 3, 5].map((i) => Number.parseInt(colour.slice(i, i + 2), 16)) as Rgb;
}

const COLOURS = Object.fromEntries(
  FIXTURE_LABELS.map((entry) => [entry.abbreviation, hex(entry.colour)]),
) as Record<'CSF' | 'GM' | 'WM', Rgb>;

/** A screenshot's pixels: rgb(column, row) with row 0 at the top. */
async function screenshotPixels(page: Page, selector: string, name: string) {
  const path = join(ARTIFACTS, `${name}.png`);
  await page.locator(selector).screenshot({ path });
  const [red, green, blue] = await readImageChannels(path);
  const [width, height] = red!.dims;
  const at = (column: number, row: number): Rgb => {
    const v = (height - 1 - row) * width + column;
    return [red!.data[v]!, green!.data[v]!, blue!.data[v]!];
  };
  const count = (colour: Rgb, tolerance = 12) => {
    let n = 0;
    for (let row = 0; row < height; row++) {
      for (let column = 0; column < width; column++) {
        const pixel = at(column, row);
        if (pixel.every((value, c) => Math.abs(value - colour[c]!) <= tolerance)) n++;
      }
    }
    return n;
  };
  /** Pixels whose dominant hue is the class's (blended with the grey image or black, as at borders). */
  const countHue = (hue: 'CSF' | 'GM' | 'WM') => {
    let n = 0;
    for (let row = 0; row < height; row++) {
      for (let column = 0; column < width; column++) {
        const [r, g, b] = at(column, row);
        if (
          hue === 'CSF'
            ? b > r + 40 && b > g + 20
            : hue === 'GM'
              ? g > r + 40 && g > b + 40
              : r > g + 60 && r > b + 60
        )
          n++;
      }
    }
    return n;
  };
  return { width, height, at, count, countHue };
}

function near(pixel: Rgb, colour: Rgb, tolerance = 12): boolean {
  return pixel.every((value, c) => Math.abs(value - colour[c]!) <= tolerance);
}

describe.skipIf(!HAS_CHROMIUM)('viewer in Chromium', () => {
  let root: string;
  let folder: string;
  let oddFolder: string;
  let subjects: FixtureSubject[];
  let server: ViewerServer;
  let oddServer: ViewerServer;
  let browser: Browser;
  const pageErrors: string[] = [];

  async function openPage(url: string): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('dialog', (dialog) => {
      pageErrors.push(`dialog opened: ${dialog.message()}`);
      void dialog.dismiss();
    });
    await page.goto(url);
    await page.waitForSelector('body[data-ready="true"]');
    return page;
  }

  beforeAll(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    root = await mkdtemp(join(tmpdir(), 'mixseg-viewer-'));
    folder = join(root, 'results');
    subjects = await writeResultsFolder(folder, { subjects: ['sub-01_T1w', 'sub-02_T1w'] });
    // A folder with a hostile label name and non-consecutive labels (WM is label 7).
    oddFolder = join(root, 'odd');
    const [odd] = await writeResultsFolder(oddFolder, { subjects: ['sub-x_T1w'], summary: false });
    const remapped = odd!.segmentation.labels.map((label) => (label === 3 ? 7 : label));
    await writeFile(
      join(oddFolder, 'sub-x_T1w_dseg.nii.gz'),
      gzipSync(encodeNifti1(labelMapImage(remapped, odd!.image))),
    );
    await writeFile(
      join(oddFolder, 'dseg.tsv'),
      `index\tname\tabbreviation\tcolor\n1\tCSF\tCSF\t#2f80ed\n2\t${XSS_NAME}\tGM\t#27ae60\n7\tWhite matter (label 7)\tWM\t#eb5757\n`,
    );
    server = await startViewerServer({ folder, distDir: VIEWER_DIST });
    oddServer = await startViewerServer({ folder: oddFolder, distDir: VIEWER_DIST });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await oddServer?.close();
    if (root) await rm(root, { recursive: true, force: true });
    expect(pageErrors).toEqual([]);
  });

  it('draws the label map in its dseg.tsv colours where the labels are, and the readout names the label', async () => {
    const page = await openPage(`${server.url}?subject=sub-01&view=axial`);
    await page.waitForSelector('body[data-loaded="sub-01"]');
    await setRange(page, '#label-opacity', 1);
    const shot = await screenshotPixels(page, '#gl', 'labels-axial-opacity-1');
    // The phantom is concentric shells: WM at the centre, then GM, then CSF.
    // (beside the centre, where the crosshair is)
    expect(near(shot.at((shot.width >> 1) + 25, (shot.height >> 1) + 25), COLOURS.WM)).toBe(true);
    expect(shot.count(COLOURS.CSF)).toBeGreaterThan(100);
    const pixels = { CSF: shot.countHue('CSF'), GM: shot.countHue('GM'), WM: shot.countHue('WM') };
    // Pixel areas are proportional to the voxel counts of the shown (middle) slice.
    const { labels, image } = { labels: subjects[0]!.segmentation.labels, image: subjects[0]!.image };
    const [nx, ny, nz] = image.dims;
    const z = Math.floor(nz / 2);
    const voxels = { CSF: 0, GM: 0, WM: 0 };
    for (let v = z * nx * ny; v < (z + 1) * nx * ny; v++) {
      const label = labels[v]!;
      if (label > 0) voxels[(['CSF', 'GM', 'WM'] as const)[label - 1]!]++;
    }
    const scale = pixels.WM / voxels.WM;
    for (const name of ['CSF', 'GM'] as const) {
      expect(pixels[name] / voxels[name] / scale).toBeGreaterThan(0.7);
      expect(pixels[name] / voxels[name] / scale).toBeLessThan(1.4);
    }
    await expect.poll(() => page.locator('#readout').textContent()).toContain('White matter (3)');
    const readout = (await page.locator('#readout').textContent()) ?? '';
    expect(readout).toMatch(/P\(WM\)\s*0\.\d{3}|P\(WM\)1\.000|P\(WM\)0\.\d{3}/);
    const legend = await page.locator('#legend tbody').textContent();
    expect(legend).toContain('Gray matter');
    await page.close();
  });

  it('hides a class, changes opacity and outlines, and the pixels follow', async () => {
    const page = await openPage(`${server.url}?subject=sub-01&view=axial`);
    await page.waitForSelector('body[data-loaded="sub-01"]');
    await setRange(page, '#label-opacity', 1);
    const before = await screenshotPixels(page, '#gl', 'toggle-before');
    await page.locator('#legend input[data-label="2"]').uncheck();
    const hidden = await screenshotPixels(page, '#gl', 'toggle-gm-hidden');
    expect(before.count(COLOURS.GM)).toBeGreaterThan(500);
    expect(hidden.count(COLOURS.GM)).toBeLessThan(before.count(COLOURS.GM) * 0.02);
    expect(hidden.countHue('WM')).toBeGreaterThan(before.countHue('WM') * 0.95);
    await page.locator('#legend input[data-label="2"]').check();
    await setRange(page, '#label-opacity', 0.5);
    const half = await screenshotPixels(page, '#gl', 'opacity-half');
    expect(half.count(COLOURS.WM)).toBeLessThan(before.count(COLOURS.WM) * 0.05);
    // at half opacity the centre is a mix of WM's colour and the grey image: reddish, not red
    const centre = half.at((half.width >> 1) + 25, (half.height >> 1) + 25);
    expect(centre[0]).toBeGreaterThan(centre[1] + 30);
    await setRange(page, '#label-opacity', 0);
    await page.locator('#label-outline').check();
    const outline = await screenshotPixels(page, '#gl', 'outline-only');
    // outlines only: a thin border of each colour, far fewer pixels than the fill
    const outlineGm = outline.count(COLOURS.GM, 20);
    expect(outlineGm).toBeGreaterThan(20);
    expect(outlineGm).toBeLessThan(before.count(COLOURS.GM) * 0.8);
    expect(outline.count(COLOURS.WM, 20)).toBeLessThan(before.count(COLOURS.WM) * 0.5);
    await page.screenshot({ path: join(ARTIFACTS, 'page-outline.png') });
    await page.close();
  });

  it('draws the histogram with the fitted components in the label colours, and the log-likelihood trace', async () => {
    const page = await openPage(`${server.url}?subject=sub-02`);
    await page.waitForSelector('body[data-loaded="sub-02"]');
    await page.screenshot({ path: join(ARTIFACTS, 'page-multiplanar.png') });
    const histogram = await screenshotPixels(page, '#histogram', 'histogram');
    const background = histogram.at(2, 2);
    let drawn = 0;
    for (let row = 0; row < histogram.height; row++) {
      for (let column = 0; column < histogram.width; column++) {
        if (!near(histogram.at(column, row), background, 4)) drawn++;
      }
    }
    expect(drawn).toBeGreaterThan(histogram.width * histogram.height * 0.05);
    for (const colour of Object.values(COLOURS)) expect(histogram.count(colour, 40)).toBeGreaterThan(15);
    // the dashed sum shows where components overlap (elsewhere a component covers it)
    expect(histogram.count([255, 255, 255], 30)).toBeGreaterThan(5);
    const trace = await screenshotPixels(page, '#trace', 'trace');
    expect(trace.count([127, 179, 255], 30)).toBeGreaterThan(20);
    await page.close();
  });

  it('segments a dropped image in a worker exactly as segment() does in Node, re-runs when beta changes, and downloads NIfTI', async () => {
    const page = await openPage(`${server.url}?view=axial`);
    await page.waitForSelector('body[data-loaded="sub-01"]');
    const imagePath = join(folder, 'sub-02_T1w.nii.gz');
    await page.locator('#open-image').setInputFiles(imagePath);
    await expect.poll(() => page.locator('#subject-title').textContent()).toBe('sub-02_T1w.nii.gz');
    await page.locator('#segment-prior').selectOption('mrf');
    await page.locator('#segment-run').click();
    await page.waitForSelector('body[data-segment="done"]', { timeout: 60_000 });
    await page.locator('#segment-beta').fill('0.6');
    await page.locator('#segment-beta').dispatchEvent('change');
    await page.waitForSelector('body[data-segment="running"]');
    await page.waitForSelector('body[data-segment="done"]', { timeout: 60_000 });
    await page.screenshot({ path: join(ARTIFACTS, 'page-segmented.png') });
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.locator('#segment-download').click(),
    ]);
    expect(download.suggestedFilename()).toBe('sub-02_T1w_dseg.nii');
    const downloaded = parseNifti(await readFile(await download.path()), 'download');
    const bytes = await readFile(imagePath);
    const expected = segment([parseNifti(bytes, 'sub-02_T1w.nii.gz')], {
      nClasses: 3,
      prior: 'mrf',
      beta: 0.6,
    });
    expect(Uint8Array.from(downloaded.data)).toEqual(expected.labels);
    expect(downloaded.dims).toEqual(subjects[1]!.image.dims);
    await page.close();
  });

  it('saves review marks in review.tsv through the server, steps with the keyboard, and keeps marks across a reload', async () => {
    const page = await openPage(`${server.url}?subject=sub-01`);
    await page.waitForSelector('body[data-loaded="sub-01"]');
    await page.locator('#review-note').fill('GM too thick at the top');
    await page.locator('#mark-fail').click();
    await page.waitForSelector('body[data-saved="sub-01:fail"]');
    await page.locator('#gl').click({ position: { x: 5, y: 5 } });
    await page.keyboard.press('j');
    await page.waitForSelector('body[data-loaded="sub-02"]');
    await page.keyboard.press('p');
    await page.waitForSelector('body[data-saved="sub-02:pass"]');
    await page.reload();
    await page.waitForSelector('body[data-loaded="sub-02"]');
    await expect.poll(() => page.locator('#mark-pass').getAttribute('class')).toContain('active');
    await page.keyboard.press('k');
    await page.waitForSelector('body[data-loaded="sub-01"]');
    await expect.poll(() => page.locator('#mark-fail').getAttribute('class')).toContain('active');
    expect(await page.locator('#review-note').inputValue()).toBe('GM too thick at the top');
    expect(await page.locator('#review-progress').textContent()).toContain('reviewed 2 (1 pass, 1 fail)');
    const review = await readFile(join(folder, 'review.tsv'), 'utf8');
    expect(review).toMatch(
      /^subject\tstatus\tnote\ttime\nsub-01\tfail\tGM too thick at the top\t\S+\nsub-02\tpass\t\t\S+\n$/,
    );
    await page.screenshot({ path: join(ARTIFACTS, 'page-review.png') });
    await page.close();
  });

  it('renders a hostile label name as text and colours non-consecutive labels', async () => {
    const page = await openPage(`${oddServer.url}?view=axial`);
    await page.waitForSelector('body[data-loaded="sub-x_T1w"]');
    await setRange(page, '#label-opacity', 1);
    const names = await page.locator('#legend td.name').allTextContents();
    expect(names).toEqual(['CSF', XSS_NAME, 'White matter (label 7)']);
    expect(await page.locator('img').count()).toBe(0);
    const shot = await screenshotPixels(page, '#gl', 'odd-labels');
    // (beside the centre, where the crosshair is)
    expect(near(shot.at((shot.width >> 1) + 25, (shot.height >> 1) + 25), COLOURS.WM)).toBe(true);
    expect(shot.count(COLOURS.GM)).toBeGreaterThan(500);
    await page.screenshot({ path: join(ARTIFACTS, 'page-hostile-label.png') });
    await page.close();
  });
});
