/**
 * Configurations of the defaults search (defaults-search.ts) on every reference case, in a fresh
 * process that loads the cases once: prints one JSON line per configuration and case (Dice per
 * class, seconds).
 * usage: worker-defaults.ts '{"configurations": [{"name", "options"}...], "quick": boolean}'
 */
import { join } from 'node:path';
import { segment } from '@mixseg/imaging';
import type { SearchConfiguration, SearchRun } from './defaults-search.ts';
import { repoRoot } from './measure.ts';
import { diceScores, loadReferenceCases, referenceMask } from './reference-cases.ts';

const { configurations, quick } = JSON.parse(process.argv[2]!) as {
  configurations: SearchConfiguration[];
  quick: boolean;
};
const quickCases = new Set([
  'sri24-t1',
  'mni152-2mm',
  'ibsr-01',
  'ibsr-16',
  'png-sri24_z075',
  'phantom-clean',
  'phantom-bright-cluster',
]);
const { cases } = await loadReferenceCases(
  join(repoRoot, '..', 'shared', 'data'),
  undefined,
  (id) => !quick || quickCases.has(id),
);
for (const configuration of configurations)
  for (const c of cases) {
    const started = performance.now();
    const run: SearchRun = {
      total: cases.length,
      configuration: configuration.name,
      options: JSON.stringify(configuration.options),
      case: c.id,
      group: c.group,
      dice: [Number.NaN, Number.NaN, Number.NaN],
      seconds: 0,
    };
    try {
      const result = segment(c.channels, {
        ...configuration.options,
        mask: referenceMask(c),
        imageType: c.imageType,
        probabilities: false,
      });
      run.dice = diceScores(result.labels, c.reference);
    } catch (error) {
      run.error = (error as Error).message;
    }
    run.seconds = (performance.now() - started) / 1000;
    console.log(JSON.stringify(run));
  }
