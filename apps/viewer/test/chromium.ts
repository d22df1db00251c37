/**
 * What the viewer's browser tests share: Debian's Chromium (never a downloaded build), launched
 * headless with WebGL2 through SwiftShader (no GPU here), the folder their screenshots and figures
 * go to, where the built page is, and a range input set as a user drags it.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
/** The tests are skipped where Chromium is not installed. */
export const HAS_CHROMIUM = existsSync(CHROMIUM);
/** The built viewer page (apps/viewer/dist; global-setup.ts builds it), which the server serves. */
export const VIEWER_DIST = fileURLToPath(new URL('../dist/', import.meta.url));
/** apps/viewer/test-results/ (git-ignored): screenshots for people to look at, timing figures. */
export const ARTIFACTS = fileURLToPath(new URL('../test-results/', import.meta.url));

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--enable-unsafe-swiftshader',
    ],
  });
}

/** Sets a range input's value and fires `input`, as dragging it does. */
export async function setRange(page: Page, selector: string, value: number): Promise<void> {
  await page.locator(selector).evaluate((input, v) => {
    (input as HTMLInputElement).value = String(v);
    input.dispatchEvent(new Event('input', { bubbles: true }));
  }, value);
}
