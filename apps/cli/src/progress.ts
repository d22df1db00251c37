/**
 * Batch progress: a one-line bar on a terminal (done / total, the subjects in flight with their EM
 * stage and iteration, time left), plain log lines otherwise (one per subject, for log files of
 * cluster jobs), nothing with --json.
 */
import type { CliIo } from './cli-io.ts';
import type { SummaryRow } from './outputs.ts';
import type { SubjectProgress } from './subject.ts';

export type ProgressMode = 'bar' | 'lines' | 'quiet';

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** `CSF 123.4 mL, GM 456.7 mL, WM 345.6 mL` */
export function describeVolumes(row: SummaryRow): string {
  return Object.entries(row.volumesMl)
    .map(([abbreviation, ml]) => `${abbreviation} ${ml === null ? 'n/a' : ml.toFixed(1)} mL`)
    .join(', ');
}

export class ProgressReporter {
  private readonly started = performance.now();
  private finished = 0;
  private computed = 0;
  private readonly active = new Map<string, SubjectProgress | undefined>();
  private lastDraw = 0;

  constructor(
    private readonly io: CliIo,
    private readonly mode: ProgressMode,
    private readonly total: number,
  ) {}

  start(stem: string): void {
    this.active.set(stem, undefined);
    this.draw(true);
  }

  progress(stem: string, progress: SubjectProgress): void {
    this.active.set(stem, progress);
    this.draw(false);
  }

  /** A subject finished (done, skipped or failed). */
  finish(row: SummaryRow): void {
    this.active.delete(row.subject);
    this.finished++;
    if (row.status !== 'skipped') this.computed++;
    const counter = `[${this.finished}/${this.total}]`;
    let line: string | undefined;
    if (row.status === 'failed') line = `${counter} ${row.subject} FAILED: ${row.error}`;
    else if (this.mode === 'lines') {
      line =
        row.status === 'skipped'
          ? `${counter} ${row.subject} skipped: outputs exist (--overwrite redoes it)`
          : `${counter} ${row.subject} done in ${(row.seconds ?? 0).toFixed(row.seconds !== null && row.seconds < 10 ? 2 : 1)} s, ${row.iterations} iterations${
              row.converged ? '' : ' (NOT converged)'
            }: ${describeVolumes(row)}`;
    }
    if (line !== undefined && this.mode !== 'quiet') {
      if (this.mode === 'bar') this.io.stderr('\r\x1b[2K');
      this.io.stderr(`${line}\n`);
    }
    this.draw(true);
  }

  /** Clears the bar. */
  close(): void {
    if (this.mode === 'bar') this.io.stderr('\r\x1b[2K');
  }

  private draw(force: boolean): void {
    if (this.mode !== 'bar') return;
    const now = performance.now();
    if (!force && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const elapsed = (now - this.started) / 1000;
    const remaining = this.total - this.finished;
    // time per computed subject so far, spread over the subjects in flight
    const eta = this.computed > 0 ? (elapsed / this.computed) * remaining : Number.NaN;
    const width = 20;
    const filled = Math.round((width * this.finished) / Math.max(1, this.total));
    const bar = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
    const current = [...this.active.entries()]
      .map(([stem, p]) => (p ? `${stem} ${p.stage} it ${p.iteration}` : `${stem} reading`))
      .join(', ');
    let line = `${bar} ${this.finished}/${this.total} ${current ? `| ${current} ` : ''}| ETA ${duration(eta)}`;
    if (line.length > this.io.columns - 1) line = `${line.slice(0, Math.max(10, this.io.columns - 2))}…`;
    this.io.stderr(`\r\x1b[2K${line}`);
  }
}
