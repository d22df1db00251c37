/**
 * `mixseg segment`: one or hundreds of subjects, in parallel, resumable, sharded across a cluster.
 * Options are validated once (segment-options.ts); each subject then runs in a worker (subject.ts);
 * what a rerun does with earlier outputs is resume.ts's; the folder's study-wide files summary.ts's.
 */

import { mkdir, readdir, readFile, realpath, rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '@mixseg/imaging/node';
import type { Command } from 'commander';
import { type CliIo, EXIT_FAILURE, OutputError, UsageError } from '../cli-io.ts';
import {
  findInputs,
  orderSubjects,
  readManifest,
  type SkippedPath,
  type Subject,
  stemOf,
  subjectsFromFiles,
} from '../inputs.ts';
import { warnAboutJobs } from '../jobs-warning.ts';
import { BIDS_IGNORE, datasetDescription, subjectLayout } from '../layout.ts';
import { estimateSubjectMemory } from '../memory-budget.ts';
import { classTable, type SubjectLayout, type SummaryRow, summaryRecord } from '../outputs.ts';
import { type PoolTask, runPool } from '../pool.ts';
import { describeVolumes, ProgressReporter } from '../progress.ts';
import { writeBatchReport } from '../report.ts';
import { resumeDecision } from '../resume.ts';
import { addSegmentOptions, resolveSettings, type SegmentCommandOptions } from '../segment-options.ts';
import { classesOf, maskFileOf, type SegmentSettings } from '../settings.ts';
import { shardItems } from '../shard.ts';
import { type SubjectTask, subjectInputs, taskOutputs } from '../subject.ts';
import { countRows, writeClassTable, writeSummary } from '../summary.ts';
import { SOFTWARE } from '../version.ts';
import { describeWriteError } from '../write-errors.ts';

export { DEFAULT_OUT_DIR } from '../segment-options.ts';

/** The real path of a file (symbolic links followed), or the path itself when it does not exist yet. */
async function canonical(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch {
    return path;
  }
}

/**
 * Refuses a run in which an output would replace an input (a mask in the output folder named like
 * a subject's label map, a manifest stem whose outputs are channel files...).
 * @throws UsageError naming the file and the two roles
 */
async function refuseInputsAsOutputs(
  tasks: readonly SubjectTask[],
  settings: SegmentSettings,
): Promise<void> {
  const inputs = new Map<string, string>();
  const add = async (path: string, role: string) => inputs.set(await canonical(path), `${role} ${path}`);
  for (const task of tasks) for (const path of subjectInputs(task.subject)) await add(path, 'input');
  const mask = settings.record['mask'] as string;
  if (mask !== 'nonzero' && mask !== 'otsu') await add(mask, '--mask');
  for (const path of (settings.record['atlas'] as string[] | null) ?? []) await add(path, '--atlas');
  if (settings.model) await add(settings.model.path, '--model');
  for (const task of tasks) {
    for (const output of taskOutputs(task).all) {
      const input = inputs.get(await canonical(output));
      if (input) {
        throw new UsageError(
          `${output} would be written over the ${input}: an output must never replace an input; use another --out-dir or stem`,
        );
      }
    }
  }
}

/** Removes temporary files an interrupted run left for these subjects (a killed job cannot clean up). */
async function removeStaleTemporaries(tasks: readonly SubjectTask[]): Promise<void> {
  const { isTemporaryOutputOf } = await import('../outputs.ts');
  const byFolder = new Map<string, Set<string>>();
  for (const task of tasks) {
    const folder = join(task.settings.outDir, task.layout.folder);
    const stems = byFolder.get(folder) ?? new Set<string>();
    stems.add(task.layout.stem);
    byFolder.set(folder, stems);
  }
  for (const [folder, stems] of byFolder) {
    let names: string[];
    try {
      names = await readdir(folder);
    } catch {
      continue;
    }
    await Promise.all(
      names
        .filter((name) => name.startsWith('.') && name.includes('.tmp-'))
        .filter((name) => [...stems].some((stem) => isTemporaryOutputOf(name, stem)))
        .map((name) => rm(join(folder, name), { force: true })),
    );
  }
}

async function runSegment(
  inputs: string[],
  options: SegmentCommandOptions,
  io: CliIo,
  useWorkers: boolean,
): Promise<number> {
  if (inputs.length > 0 && options.manifest !== undefined) {
    throw new UsageError('give input files or --manifest, not both');
  }
  if (inputs.length === 0 && options.manifest === undefined) {
    throw new UsageError(
      'nothing to segment: give input files, folders or globs, or --manifest subjects.tsv',
    );
  }
  const settings = await resolveSettings(options, io);
  const log = (line: string) => {
    if (!settings.json) io.stderr(`${line}\n`);
  };
  const jobsWarning =
    options.jobs === undefined ? undefined : warnAboutJobs(settings.jobs, availableParallelism());
  if (jobsWarning) io.stderr(`warning: ${jobsWarning}\n`);
  const fromManifest = options.manifest !== undefined;
  let found: Subject[];
  let unreadable: SkippedPath[] = [];
  if (fromManifest) found = await readManifest(options.manifest!, io.cwd);
  else {
    const search = await findInputs(inputs, io.cwd);
    unreadable = search.skipped;
    found = subjectsFromFiles(search.files);
  }
  // what could not be read is said, and the rest is segmented
  for (const skipped of unreadable) io.stderr(`skipped ${skipped.path}: ${skipped.reason}\n`);
  const all = orderSubjects(found, io.cwd);
  if (all.length === 0) throw new UsageError(`manifest ${options.manifest} lists no subject`);
  const subjects = shardItems(all, settings.shard);
  const classes = classTable(classesOf(settings));

  const layouts = new Map<Subject, SubjectLayout>();
  // a manifest's own stem keeps the flat names
  for (const subject of subjects) {
    layouts.set(
      subject,
      await subjectLayout(subject, fromManifest && subject.stem !== stemOf(subject.channels[0]!)),
    );
  }
  const tasks: SubjectTask[] = subjects.map((subject) => ({
    subject,
    settings,
    layout: layouts.get(subject)!,
    replacing: undefined,
  }));
  await refuseInputsAsOutputs(tasks, settings);
  /** A study-wide write: its failure is one line naming the file, exit code 1. */
  const studyWrite = async (path: string, write: () => Promise<unknown>) => {
    try {
      await write();
    } catch (error) {
      if (error instanceof UsageError) throw error;
      throw new OutputError(describeWriteError(error, path));
    }
  };
  await studyWrite(settings.outDir, () => mkdir(settings.outDir, { recursive: true }));
  await studyWrite(join(settings.outDir, 'dseg.tsv'), () => writeClassTable(settings.outDir, classes));
  const roots = [...new Set(tasks.flatMap((task) => (task.layout.bids ? [task.layout.bids.root] : [])))];
  const descriptionPath = join(settings.outDir, 'dataset_description.json');
  const earlierDescription = await readFile(descriptionPath, 'utf8')
    .then((text) => JSON.parse(text) as Record<string, unknown>)
    .catch(() => undefined);
  const { description, links } = datasetDescription(settings.outDir, roots, earlierDescription);
  for (const task of tasks) {
    if (task.layout.bids) task.layout.bids.link = links.get(resolve(task.layout.bids.root));
  }
  await studyWrite(descriptionPath, () =>
    writeFileAtomic(descriptionPath, `${JSON.stringify(description, null, 2)}\n`),
  );
  const ignorePath = join(settings.outDir, '.bidsignore');
  if (roots.length > 0) await studyWrite(ignorePath, () => writeFileAtomic(ignorePath, BIDS_IGNORE));
  await removeStaleTemporaries(tasks);
  const { index, count } = settings.shard;
  log(
    `mixseg segment: ${subjects.length} subject(s)${count > 1 ? ` (shard ${index}/${count} of ${all.length}, from ${settings.shard.source})` : ''}, ` +
      `${settings.jobs} job(s), output in ${settings.outDir}`,
  );

  const reporter = new ProgressReporter(
    io,
    settings.json ? 'quiet' : io.isTTY ? 'bar' : 'lines',
    subjects.length,
  );
  const rows = new Map<string, SummaryRow>();
  const pending: PoolTask[] = [];
  for (const task of tasks) {
    const base = {
      subject: task.subject.stem,
      inputs: subjectInputs(task.subject),
      dseg: taskOutputs(task).dseg,
    };
    const decision = await resumeDecision(base, taskOutputs(task), settings, classes);
    if (decision.action === 'run') {
      const memory = await estimateSubjectMemory(
        {
          channels: task.subject.channels,
          mask: task.subject.mask ?? maskFileOf(settings),
          atlas: (settings.record['atlas'] as string[] | null) ?? undefined,
        },
        { classes: classes.length },
      );
      pending.push({
        ...task,
        memory,
        replacing: decision.earlier ? [...decision.earlier.outputs, taskOutputs(task).sidecar] : undefined,
      });
    } else {
      rows.set(task.subject.stem, decision.row);
      reporter.finish(decision.row);
    }
  }

  const controller = new AbortController();
  const stopOnSignal = () => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort();
  };
  if (io.handleSignals) {
    process.on('SIGINT', stopOnSignal);
    process.on('SIGTERM', stopOnSignal);
  }
  try {
    const computed = await runPool(
      pending,
      {
        start: (task) => reporter.start(task.subject.stem),
        progress: (task, progress) => reporter.progress(task.subject.stem, progress),
        finish: (row) => reporter.finish(row),
      },
      { jobs: settings.jobs, useWorkers, signal: controller.signal, memoryBudget: settings.memoryBudget },
    );
    for (const row of computed) if (row) rows.set(row.subject, row);
  } finally {
    reporter.close();
    if (io.handleSignals) {
      process.off('SIGINT', stopOnSignal);
      process.off('SIGTERM', stopOnSignal);
    }
  }
  if (controller.signal.aborted) {
    // workers were terminated mid-write: their temporary files carry this process's id
    for (const folder of new Set(tasks.map((task) => join(settings.outDir, task.layout.folder)))) {
      const names = await readdir(folder).catch(() => [] as string[]);
      await Promise.all(
        names
          .filter((name) => name.startsWith('.') && name.includes(`.tmp-${process.pid}-`))
          .map((name) => rm(join(folder, name), { force: true })),
      );
    }
    io.stderr(
      `interrupted: ${rows.size} of ${subjects.length} subject(s) finished; rerun the same command to do the rest\n`,
    );
    return 130;
  }

  const ordered = subjects.map((s) => rows.get(s.stem)!).filter(Boolean);
  const counts = countRows(ordered);
  let tsvPath: string;
  let studyRows: SummaryRow[];
  try {
    ({ tsvPath, merged: studyRows } = await writeSummary(settings.outDir, settings.shard, ordered, classes));
  } catch (error) {
    // the subjects' own outputs are complete; only the study's summary is missing
    io.stderr(
      `${describeWriteError(error, join(settings.outDir, 'summary.tsv'))}: the subjects' outputs are written; rerun to write the summary\n`,
    );
    return EXIT_FAILURE;
  }
  let reportPath: string | undefined;
  if (settings.report) {
    reportPath = join(settings.outDir, 'report.html');
    await studyWrite(reportPath, () => writeBatchReport(settings.outDir, studyRows, classes));
  }
  if (settings.json) {
    const document = {
      software: { name: SOFTWARE.Name, version: SOFTWARE.Version },
      outDir: settings.outDir,
      shard: { index, count },
      counts,
      classes,
      subjects: ordered.map(summaryRecord),
    };
    io.stdout(`${JSON.stringify(document, null, 2)}\n`);
  } else {
    if (ordered.length === 1 && ordered[0]!.status !== 'failed') {
      io.stdout(`${ordered[0]!.subject}: ${describeVolumes(ordered[0]!)}\n`);
    }
    io.stdout(
      `${counts.total} subject(s): ${counts.done} done, ${counts.skipped} skipped, ${counts.failed} failed; summary in ${tsvPath}${reportPath ? `, report in ${reportPath}` : ''}\n`,
    );
    for (const row of ordered.filter((r) => r.status === 'failed')) io.stderr(`failed: ${row.error}\n`);
    // a result that contradicts the declared image type is said on the terminal; the other
    // warnings (spikes, outliers) are in the sidecars
    let others = 0;
    for (const row of ordered) {
      for (const warning of row.warnings ?? []) {
        if (/contradicts imageType/.test(warning)) io.stderr(`warning: ${row.subject}: ${warning}\n`);
        else others++;
      }
    }
    if (others > 0)
      io.stderr(`${others} other warning(s) (spikes, outliers) are in the subjects' _dseg.json sidecars\n`);
  }
  return counts.failed > 0 ? EXIT_FAILURE : 0;
}

export function segmentCommand(program: Command, io: CliIo, setExitCode: (code: number) => void): void {
  const command = program
    .command('segment')
    .description('segment images into tissue classes (CSF, GM, WM): one subject or a whole study')
    .argument(
      '[inputs...]',
      'image files, folders (searched recursively for .nii, .nii.gz, .png, .jpg) or quoted globs',
    );
  addSegmentOptions(command);
  command.action(async (inputs: string[], options: SegmentCommandOptions, self: Command) => {
    try {
      setExitCode(await runSegment(inputs, options, io, io.useWorkers));
    } catch (error) {
      if (error instanceof UsageError)
        self.error(`error: ${error.message}`, { exitCode: 2, code: 'mixseg.usage' });
      if (error instanceof OutputError) {
        io.stderr(`error: ${error.message}\n`);
        setExitCode(EXIT_FAILURE);
        return;
      }
      throw error;
    }
  });
}
