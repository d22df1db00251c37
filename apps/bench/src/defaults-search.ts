/**
 * `pnpm bench defaults`: how segment()'s defaults are chosen. Every configuration of a grid over the
 * options that decide accuracy (spatial prior and its beta, how strongly the prior keeps the class
 * shares, covariance shrinkage) is run on every dataset with a reference (reference-cases.ts), in
 * worker processes; then, leaving one dataset out at a time, the configuration that scores best on
 * the others is chosen and scored on the one left out. The default is the configuration that scores
 * best on all of them; the report shows how often the held-out choices agree with it and what each
 * dataset loses against its own best configuration.
 *
 * Score of a subject: the mean Dice of the classes that count for its dataset (IBSR: GM and WM);
 * of a dataset: the mean of its subjects' scores averaged with the worst subject's; of a
 * configuration: the mean over the datasets. Results are cached in bench-results/defaults-search.json
 * (a rerun resumes), and the report is bench-results/defaults-search.md.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import type { SegmentOptions } from '@mixseg/imaging';
import { markdownTable } from './markdown-table.ts';
import {
  benchRoot,
  formatTable,
  gitRevision,
  machineInfo,
  repoRoot,
  resultsDirectory,
  writeJson,
} from './measure.ts';
import { REFERENCE_GROUPS } from './reference-cases.ts';

/** One configuration of the grid. */
export interface SearchConfiguration {
  name: string;
  options: SegmentOptions;
}

/** One configuration on one case. */
export interface SearchRun {
  configuration: string;
  /** Cases run for the configuration (to know when it is complete). */
  total?: number;
  /** The options as run (JSON), so that a cached run of a changed configuration is redone. */
  options: string;
  case: string;
  group: string;
  dice: number[];
  seconds: number;
  error?: string;
}

function configuration(
  prior: 'ppf' | 'mrf',
  beta: number,
  classWeightPower: number,
  covarianceShrinkage: number,
) {
  return {
    name: `${prior} ${beta}, weights^${classWeightPower}, shrinkage ${covarianceShrinkage}`,
    options: { prior, beta, classWeightPower, covarianceShrinkage },
  };
}

/** Where shrinkage 0.15 and 0.5 are tried: the best prior settings of a first search. */
const SHRINKAGE_PROBES: ['ppf' | 'mrf', number, number][] = [
  ['ppf', 1, 1],
  ['ppf', 1, 0.5],
  ['mrf', 0.3, 1],
  ['mrf', 0.3, 0.5],
];

/** The grid: spatial prior and beta x class-weight power, at shrinkage 0.3; shrinkage probes. */
export function searchGrid(quick: boolean): SearchConfiguration[] {
  const priors: { prior: 'ppf' | 'mrf'; beta: number }[] = quick
    ? [
        { prior: 'ppf', beta: 1 },
        { prior: 'mrf', beta: 0.3 },
      ]
    : [
        { prior: 'ppf', beta: 0.5 },
        { prior: 'ppf', beta: 1 },
        { prior: 'ppf', beta: 2 },
        { prior: 'mrf', beta: 0.1 },
        { prior: 'mrf', beta: 0.2 },
        { prior: 'mrf', beta: 0.3 },
        { prior: 'mrf', beta: 0.5 },
      ];
  const powers = quick ? [0, 1] : [0, 0.5, 1];
  // shrinkage 0 lets a narrow template peak (SRI24's WM) take one class and leave another broad
  // (SRI24 mean Dice .76); 0.3 and its neighbours are searched where the other choices are best
  const shrinkages = [0.3];
  const grid: SearchConfiguration[] = [];
  for (const { prior, beta } of priors) {
    for (const classWeightPower of powers) {
      for (const covarianceShrinkage of shrinkages) {
        grid.push(configuration(prior, beta, classWeightPower, covarianceShrinkage));
      }
    }
  }
  if (!quick) {
    for (const covarianceShrinkage of [0.15, 0.5]) {
      for (const [prior, beta, power] of SHRINKAGE_PROBES)
        grid.push(configuration(prior, beta, power, covarianceShrinkage));
    }
  }
  return grid;
}

/** Per-case score: the mean Dice over the classes that count for its group. */
export function caseScore(run: Pick<SearchRun, 'dice' | 'group'>): number {
  const classes = REFERENCE_GROUPS.find((g) => g.id === run.group)?.scoredClasses ?? [0, 1, 2];
  return classes.reduce((sum, k) => sum + (run.dice[k] ?? Number.NaN), 0) / classes.length;
}

/** A group's score from its cases' scores: (mean + worst) / 2, or the one score. */
export function groupScore(scores: number[]): number {
  if (scores.length === 0) return Number.NaN;
  const mean = scores.reduce((a, b) => a + b, 0) / scores.length;
  return scores.length === 1 ? mean : (mean + Math.min(...scores)) / 2;
}

/** Scores of every configuration on every group: scores[configuration][group]. */
export function scoreTable(runs: SearchRun[]): Map<string, Map<string, number>> {
  const byConfiguration = new Map<string, Map<string, number[]>>();
  for (const run of runs) {
    if (run.error) continue;
    const groups = byConfiguration.get(run.configuration) ?? new Map<string, number[]>();
    byConfiguration.set(run.configuration, groups);
    const list = groups.get(run.group) ?? [];
    list.push(caseScore(run));
    groups.set(run.group, list);
  }
  const table = new Map<string, Map<string, number>>();
  for (const [configuration, groups] of byConfiguration) {
    table.set(configuration, new Map([...groups].map(([group, scores]) => [group, groupScore(scores)])));
  }
  return table;
}

/** The mean of a configuration's scores over the given groups (NaN when one is missing). */
function objective(scores: Map<string, number>, groups: string[]): number {
  let sum = 0;
  for (const group of groups) {
    const value = scores.get(group);
    if (value === undefined || Number.isNaN(value)) return Number.NaN;
    sum += value;
  }
  return sum / groups.length;
}

/** The leave-one-dataset-out analysis. */
export interface LeaveOneOut {
  groups: string[];
  /** The configuration best over every group: the default. */
  chosen: string;
  chosenObjective: number;
  heldOut: {
    group: string;
    /** Best on the other groups. */
    choice: string;
    /** Its score on the held-out group. */
    score: number;
    /** The chosen default's score on the group. */
    defaultScore: number;
    /** The best any configuration gets on the group, and which. */
    oracle: number;
    oracleConfiguration: string;
  }[];
}

export function leaveOneDatasetOut(table: Map<string, Map<string, number>>, groups: string[]): LeaveOneOut {
  const configurations = [...table.keys()];
  const best = (over: string[]) => {
    let name = '';
    let value = -Infinity;
    for (const configuration of configurations) {
      const v = objective(table.get(configuration)!, over);
      if (v > value) {
        value = v;
        name = configuration;
      }
    }
    return { name, value };
  };
  const chosen = best(groups);
  const heldOut = groups.map((group) => {
    const choice = best(groups.filter((g) => g !== group)).name;
    const oracle = best([group]);
    return {
      group,
      choice,
      score: table.get(choice)!.get(group)!,
      defaultScore: table.get(chosen.name)!.get(group)!,
      oracle: oracle.value,
      oracleConfiguration: oracle.name,
    };
  });
  return { groups, chosen: chosen.name, chosenObjective: chosen.value, heldOut };
}

/** Markdown of the analysis. */
export function renderSearch(
  runs: SearchRun[],
  grid: SearchConfiguration[],
  header: string[],
): { markdown: string; analysis: LeaveOneOut } {
  const table = scoreTable(runs);
  const groups = REFERENCE_GROUPS.map((g) => g.id).filter((g) => [...table.values()].some((s) => s.has(g)));
  const analysis = leaveOneDatasetOut(table, groups);
  const name = (id: string) => REFERENCE_GROUPS.find((g) => g.id === id)?.name ?? id;
  const f = (v: number) => (Number.isFinite(v) ? v.toFixed(3) : 'n/a');
  const ranking = grid
    .map((c) => ({ name: c.name, value: objective(table.get(c.name) ?? new Map(), groups) }))
    .filter((r) => Number.isFinite(r.value))
    .sort((a, b) => b.value - a.value);
  const agree = analysis.heldOut.filter((h) => h.choice === analysis.chosen).length;
  const lines = [
    '# How the defaults were chosen: leave one dataset out',
    '',
    ...header,
    '',
    `Grid: ${grid.length} configurations x ${groups.length} datasets (${runs.length} runs). Score of a subject: the mean`,
    'Dice of the classes that count (IBSR: GM and WM; its manual labels put sulcal CSF in GM); of a dataset:',
    'the mean over its subjects averaged with its worst subject; of a configuration: the mean over the datasets.',
    '',
    `**Chosen default: ${analysis.chosen}** (mean score ${f(analysis.chosenObjective)}). Left out one at a time,`,
    `the other datasets choose the same configuration for ${agree} of ${groups.length} datasets.`,
    '',
    formatMarkdown(
      [
        'left-out dataset',
        'chosen on the others',
        'its score there',
        'default',
        'best possible',
        'best configuration there',
      ],
      analysis.heldOut.map((h) => [
        name(h.group),
        h.choice,
        f(h.score),
        f(h.defaultScore),
        f(h.oracle),
        h.oracleConfiguration,
      ]),
    ),
    '',
    '## The ten best configurations',
    '',
    formatMarkdown(
      ['configuration', 'mean', ...groups.map(name)],
      ranking
        .slice(0, 10)
        .map((r) => [r.name, f(r.value), ...groups.map((g) => f(table.get(r.name)!.get(g) ?? Number.NaN))]),
    ),
    '',
  ];
  return { markdown: lines.join('\n'), analysis };
}

function formatMarkdown(headers: string[], rows: string[][]): string {
  return markdownTable(
    headers,
    rows,
    new Set(headers.map((_, c) => c).filter((c) => rows.some((r) => /^[\d.]+$|^n\/a$/.test(r[c] ?? '')))),
  );
}

const WORKER = join(benchRoot, 'src', 'worker-defaults.ts');

/** Runs the grid (resuming from the cache), writes the JSON and the report, prints the table. */
export async function runDefaultsSearch(options: {
  quick: boolean;
  log?: (line: string) => void;
}): Promise<string> {
  const log = options.log ?? ((line: string) => console.log(line));
  const grid = searchGrid(options.quick);
  const cacheFile = join(resultsDirectory(options.quick), 'defaults-search.json');
  const cached: SearchRun[] = existsSync(cacheFile)
    ? (JSON.parse(readFileSync(cacheFile, 'utf8')).runs ?? [])
    : [];
  const done = new Set(cached.map((r) => `${r.configuration}\u0000${r.options}\u0000${r.case}`));
  const todo = grid.filter(
    (c) => !cached.some((r) => r.configuration === c.name && r.options === JSON.stringify(c.options)),
  );
  const runs = cached.filter((r) =>
    grid.some((c) => c.name === r.configuration && JSON.stringify(c.options) === r.options),
  );
  const started = performance.now();
  const jobs = Math.max(1, Math.min(os.availableParallelism(), todo.length));
  log(`defaults search: ${grid.length} configurations, ${todo.length} to run, ${jobs} worker(s)`);
  const save = () =>
    writeJson(cacheFile, {
      benchmark: 'defaults-search',
      machine: machineInfo(),
      git: gitRevision(),
      grid,
      runs,
    });
  // each worker loads the cases once and runs its share of the configurations
  const shares = Array.from({ length: jobs }, (_, j) => todo.filter((_, i) => i % jobs === j));
  await Promise.all(
    shares.map((share) =>
      runWorker(share, options.quick, (run) => {
        const key = `${run.configuration}\u0000${run.options}\u0000${run.case}`;
        if (done.has(key)) return;
        done.add(key);
        runs.push(run);
        const finished = runs.filter((r) => r.configuration === run.configuration);
        if (finished.length === run.total) {
          save();
          const mean = finished.reduce((s, r) => s + caseScore(r), 0) / finished.length;
          log(`  ${run.configuration}: ${finished.length} cases, mean case score ${mean.toFixed(3)}`);
        }
      }),
    ),
  );
  save();
  const seconds = (performance.now() - started) / 1000;
  const header = [
    `Measured at ${gitRevision().shortCommit ?? 'an unknown revision'} on ${machineInfo().cpuModel}; \`pnpm bench defaults${options.quick ? ' --quick' : ''}\`` +
      ` (${seconds.toFixed(0)} s this run; the runs are cached in ${cacheFile.slice(repoRoot.length + 1)}).`,
  ];
  const { markdown, analysis } = renderSearch(runs, grid, header);
  const reportFile = join(resultsDirectory(options.quick), 'defaults-search.md');
  mkdirSync(dirname(reportFile), { recursive: true });
  writeFileSync(reportFile, markdown);
  log('');
  log(
    formatTable(
      ['left-out dataset', 'chosen on the others', 'score', 'default', 'best'],
      analysis.heldOut.map((h) => [
        h.group,
        h.choice,
        h.score.toFixed(3),
        h.defaultScore.toFixed(3),
        h.oracle.toFixed(3),
      ]),
      new Set([2, 3, 4]),
    ),
  );
  log(`chosen default: ${analysis.chosen}`);
  log(`wrote ${reportFile}`);
  return reportFile;
}

function runWorker(
  configurations: SearchConfiguration[],
  quick: boolean,
  onRun: (run: SearchRun & { total: number }) => void,
): Promise<void> {
  if (configurations.length === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', WORKER, JSON.stringify({ configurations, quick })],
      { cwd: benchRoot, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let buffer = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffer += chunk;
      const lines = buffer.split('\n');
      buffer = lines.pop()!;
      for (const line of lines) if (line.startsWith('{')) onRun(JSON.parse(line));
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`a defaults worker exited with ${code}`));
      else resolve();
    });
  });
}
