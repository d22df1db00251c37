/** A warning for a --jobs that asks for more parallel subjects than the machine has cores. */

/**
 * The warning for `--jobs` above the number of cores, or undefined when it is not above: each job
 * is a worker thread segmenting one subject, so jobs beyond the cores share them (the batch is no
 * faster) while each still holds a whole subject in memory.
 *
 * @param jobs - the --jobs given, a positive integer.
 * @param cores - the cores this process may use (os.availableParallelism()).
 */
export function warnAboutJobs(jobs: number, cores: number): string | undefined {
  if (!(jobs > cores)) return undefined;
  return (
    `--jobs ${jobs} is more than the ${cores} core${cores === 1 ? '' : 's'} here: the extra subjects share ` +
    `the cores (no faster) and each holds its memory; --jobs ${cores} (the default) uses every core`
  );
}
