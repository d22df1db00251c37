/**
 * Builds the viewer once (into apps/viewer/dist) before the tests: the browser tests load the
 * production build through the real server, as `mixseg view` will.
 */
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

export default async function setup(): Promise<void> {
  await build({ root: fileURLToPath(new URL('..', import.meta.url)), logLevel: 'warn' });
}
