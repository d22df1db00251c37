/**
 * Sharding: a cluster job array runs a study with no coordinator, each task taking a fixed,
 * deterministic slice of the subjects. Subjects are sorted by stem and shard i of n takes those at
 * positions p with p mod n = i (round robin, so shards get similar mixes of large and small
 * subjects). Together the shards cover every subject exactly once.
 */
import { UsageError } from './cli-io.ts';

/** Shard `index` (0-based) of `count`. */
export interface Shard {
  index: number;
  count: number;
  /** Where it came from: the option or an environment variable. */
  source: string;
}

function parseCount(value: string, what: string): number {
  const number = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(number)) {
    throw new UsageError(`${what} must be a non-negative integer, got "${value}"`);
  }
  return number;
}

/** Parses `I/N` (0 <= I < N). */
export function parseShard(value: string, source = '--shard'): Shard {
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(value);
  if (!match) throw new UsageError(`${source} must be I/N with 0 <= I < N (e.g. 0/4), got "${value}"`);
  const index = Number(match[1]);
  const count = Number(match[2]);
  if (count < 1 || index >= count) {
    throw new UsageError(`${source} must be I/N with 0 <= I < N (e.g. 0/4), got "${value}"`);
  }
  return { index, count, source };
}

/**
 * The shard to run: `--shard` when given; else SLURM's array variables (the task's position in
 * the array, `SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN`, of `SLURM_ARRAY_TASK_COUNT`, so
 * `--array=0-9` and `--array=1-10` both work); else a Kubernetes Indexed Job's
 * `JOB_COMPLETION_INDEX` of `MIXSEG_SHARD_COUNT` (Kubernetes does not export the completion count:
 * set it to the Job's `completions`); else everything (0/1).
 *
 * @throws {UsageError} for malformed values, or `JOB_COMPLETION_INDEX` without `MIXSEG_SHARD_COUNT`.
 */
export function resolveShard(option: string | undefined, env: Record<string, string | undefined>): Shard {
  if (option !== undefined) return parseShard(option);
  const slurmId = env['SLURM_ARRAY_TASK_ID'];
  const slurmCount = env['SLURM_ARRAY_TASK_COUNT'];
  if (slurmId !== undefined && slurmCount !== undefined) {
    const min = env['SLURM_ARRAY_TASK_MIN'] ?? '0';
    const index = parseCount(slurmId, 'SLURM_ARRAY_TASK_ID') - parseCount(min, 'SLURM_ARRAY_TASK_MIN');
    return parseShard(
      `${index}/${parseCount(slurmCount, 'SLURM_ARRAY_TASK_COUNT')}`,
      'SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN / SLURM_ARRAY_TASK_COUNT',
    );
  }
  const jobIndex = env['JOB_COMPLETION_INDEX'];
  if (jobIndex !== undefined) {
    const count = env['MIXSEG_SHARD_COUNT'];
    if (count === undefined) {
      throw new UsageError(
        'JOB_COMPLETION_INDEX is set (a Kubernetes Indexed Job) but MIXSEG_SHARD_COUNT is not: ' +
          "set it to the Job's completions, or pass --shard I/N (--shard 0/1 runs everything)",
      );
    }
    return parseShard(
      `${parseCount(jobIndex, 'JOB_COMPLETION_INDEX')}/${parseCount(count, 'MIXSEG_SHARD_COUNT')}`,
      'JOB_COMPLETION_INDEX/MIXSEG_SHARD_COUNT',
    );
  }
  return { index: 0, count: 1, source: 'default' };
}

/** The items of shard `index` of `count`: positions p with p mod count = index. */
export function shardItems<T>(items: readonly T[], shard: Pick<Shard, 'index' | 'count'>): T[] {
  return items.filter((_, position) => position % shard.count === shard.index);
}
