/**
 * Reviewing a study in a real browser (Debian's Chromium, playwright-core, the production build
 * through the real server): the anatomy comes from the inputs the sidecars name, outside the
 * results folder; a review mark lands on the subject on screen, never on one still loading; and
 * the histogram's bars are in the model's (bias-corrected) units, so that the fitted classes sit
 * on them. Screenshots are kept in apps/viewer/test-results/ for people to look at.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readImageChannels } from '@mixseg/imaging/node';
import { startViewerServer, type ViewerServer } from '@mixseg/server';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, HAS_CHROMIUM, launchChromium, setRange, VIEWER_DIST } from './chromium.ts';
import { writeResultsFolder } from './results-fixture.ts';

/** Pixels of a screenshot that are grey (the anatomy, not a label colour, not black). */
async function greyPixels(page: Page, name: string): Promise<number> {
  const path = join(ARTIFACTS, `${name}.png`);
  await page.locator('#gl').screenshot({ path });
  const [red, green, blue] = await readImageChannels(path);
  let n = 0;
  for (let v = 0; v < red!.data.length; v++) {
    const [r, g, b] = [red!.data[v]!, green!.data[v]!, blue!.data[v]!];
    if (r > 40 && Math.abs(r - g) < 8 && Math.abs(r - b) < 8) n++;
  }
  return n;
}

describe.skipIf(!HAS_CHROMIUM)('reviewing a study in Chromium', () => {
  let root: string;
  let outside: ViewerServer;
  let biased: ViewerServer;
  let biasedFolder: string;
  let browser: Browser;
  const pageErrors: string[] = [];

  async function openPage(url: string): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(url);
    await page.waitForSelector('body[data-ready="true"]');
    return page;
  }

  beforeAll(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    root = await mkdtemp(join(tmpdir(), 'mixseg-viewer-study-'));
    // `mixseg segment raw/sub-01_T1w.nii.gz -o out`: the images stay in raw/, the sidecars name
    // them relative to themselves; sub-02's input has since been removed
    const out = join(root, 'out');
    await writeResultsFolder(out, { subjects: ['sub-01_T1w', 'sub-02_T1w'] });
    await mkdir(join(root, 'raw'));
    for (const stem of ['sub-01_T1w', 'sub-02_T1w']) {
      await rename(join(out, `${stem}.nii.gz`), join(root, 'raw', `${stem}.nii.gz`));
      const sidecarPath = join(out, `${stem}_dseg.json`);
      const sidecar = JSON.parse(await readFile(sidecarPath, 'utf8')) as Record<string, unknown>;
      delete sidecar['Inputs'];
      sidecar['Sources'] = [`../raw/${stem}.nii.gz`];
      await writeFile(sidecarPath, JSON.stringify(sidecar));
    }
    await rm(join(root, 'raw', 'sub-02_T1w.nii.gz'));
    outside = await startViewerServer({ folder: out, distDir: VIEWER_DIST });
    // a study of a phantom with a 30 % bias field, fitted with bias correction (the default);
    // sub-01 and sub-02 have their field saved (--save-bias-field), sub-03 has not
    biasedFolder = join(root, 'biased');
    await writeResultsFolder(biasedFolder, {
      subjects: ['sub-01_T1w', 'sub-02_T1w', 'sub-03_T1w'],
      phantom: { dims: [64, 64, 48], spacing: [2, 2, 2], shape: 'shells', bias: 0.3 },
      biasField: true,
      copyFirst: true,
    });
    await rm(join(biasedFolder, 'sub-03_T1w_desc-biasfield.nii.gz'));
    biased = await startViewerServer({ folder: biasedFolder, distDir: VIEWER_DIST });
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await outside?.close();
    await biased?.close();
    if (root) await rm(root, { recursive: true, force: true });
    expect(pageErrors).toEqual([]);
  });

  it('draws the labels over the input image the sidecar names outside the folder, and says when it is gone', async () => {
    const page = await openPage(`${outside.url}?subject=sub-01&view=axial`);
    await page.waitForSelector('body[data-loaded="sub-01"]');
    expect(await page.locator('#status').textContent()).not.toContain('labels only');
    await setRange(page, '#label-opacity', 0);
    // the anatomy under transparent labels: a grey phantom fills much of the view
    const withImage = await greyPixels(page, 'outside-input-sub-01');
    expect(withImage).toBeGreaterThan(5000);
    await page.keyboard.press('j');
    await page.waitForSelector('body[data-loaded="sub-02"]');
    // the status line says which input is missing and that the labels are shown without it
    await expect.poll(() => page.locator('#status').textContent()).toContain('labels shown without it');
    expect(await page.locator('#status').textContent()).toMatch(
      /\.\.\/raw\/sub-02_T1w\.nii\.gz: no such file/,
    );
    await setRange(page, '#label-opacity', 0);
    expect(await greyPixels(page, 'outside-input-sub-02-missing')).toBeLessThan(withImage / 20);
    await page.close();
  });

  it('never marks a subject that is not drawn yet: j then p at once is refused, p once drawn is saved', async () => {
    const page = await openPage(`${biased.url}?subject=sub-01&view=axial`);
    await page.waitForSelector('body[data-loaded="sub-01"]');
    await page.locator('#gl').click({ position: { x: 5, y: 5 } });
    // both keys in one task: the page cannot have drawn sub-02 in between
    const seen = await page.evaluate(() => {
      const press = (key: string) =>
        document.activeElement?.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true }));
      press('j');
      const afterJ = {
        title: document.querySelector('#subject-title')?.textContent ?? '',
        loaded: document.body.dataset['loaded'] ?? '',
      };
      press('p');
      return afterJ;
    });
    // the new subject is named at once and the old one has left the screen
    expect(seen.title).toContain('sub-02');
    expect(seen.loaded).toBe('');
    await page.waitForSelector('body[data-refused="sub-02:pass"]');
    await page.waitForSelector('body[data-loaded="sub-02"]');
    expect(existsSync(join(biasedFolder, 'review.tsv'))).toBe(false);
    await page.keyboard.press('p');
    await page.waitForSelector('body[data-saved="sub-02:pass"]');
    const review = await readFile(join(biasedFolder, 'review.tsv'), 'utf8');
    expect(review).toMatch(/^subject\tstatus\tnote\ttime\nsub-02\tpass\t\t\S+\n$/);
    await page.close();
  });

  it('puts the histogram in the bias-corrected units of the model, so the classes sit on the bars', async () => {
    const misfit = async (page: Page) => Number(await page.locator('#histogram').getAttribute('data-misfit'));
    const page = await openPage(`${biased.url}?subject=sub-01`);
    await page.waitForSelector('body[data-loaded="sub-01"]');
    await page.waitForSelector('#histogram[data-source="field"][data-misfit]');
    const corrected = await misfit(page);
    await page.locator('#histogram').screenshot({ path: join(ARTIFACTS, 'histogram-bias-corrected.png') });
    // the axes are labelled in the corrected units
    expect(await page.locator('#histogram').getAttribute('aria-label')).toMatch(
      /x axis: intensity ÷ saved bias field/,
    );
    // sub-03 has no saved field: raw bars, and the chart says so in its note
    await page.keyboard.press('j');
    await page.keyboard.press('j');
    await page.waitForSelector('body[data-loaded="sub-03"]');
    await page.waitForSelector('#histogram[data-source="raw"][data-misfit]');
    const raw = await misfit(page);
    await page
      .locator('#histogram')
      .screenshot({ path: join(ARTIFACTS, 'histogram-raw-under-corrected-model.png') });
    expect(await page.locator('#histogram').getAttribute('aria-label')).toMatch(/raw/i);
    // corrected: the model places few voxels elsewhere than the bars; raw: many more
    console.log(`histogram misfit: ${corrected.toFixed(3)} corrected, ${raw.toFixed(3)} raw`);
    expect(corrected).toBeLessThan(0.12);
    expect(raw).toBeGreaterThan(Math.max(0.2, corrected * 3));
    await page.close();
  });
});
