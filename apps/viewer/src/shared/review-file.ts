/**
 * The study review's marks and their file, `review.tsv` in the results folder: one row per
 * subject, columns `subject`, `status` (`pass`, `fail`, or empty for "not decided"), `note` and
 * `time` (ISO 8601, when the mark was set). Pure: used by the server and the page.
 */

/** A subject's review mark. */
export interface ReviewMark {
  subject: string;
  status: ReviewStatus;
  note: string;
  /** ISO 8601 time the mark was set (set by the server). */
  time: string;
}

/** Pass, fail, or not decided (empty). */
export type ReviewStatus = 'pass' | 'fail' | '';

const REVIEW_STATUSES: readonly ReviewStatus[] = ['pass', 'fail', ''];
const HEADER = ['subject', 'status', 'note', 'time'];
/** Longest accepted subject name and note, in characters. */
export const MAX_SUBJECT_LENGTH = 256;
export const MAX_NOTE_LENGTH = 4000;

/**
 * Checks a mark sent by the page and returns it with `time` set to now. Tabs and line breaks in
 * the note become spaces (the file is one row per subject).
 *
 * @throws {TypeError} saying what is wrong (subject empty, too long or holding a tab or line
 *   break; status not pass, fail or empty; note not a string or too long).
 */
export function validateReviewMark(value: unknown, now = new Date()): ReviewMark {
  if (value === null || typeof value !== 'object') throw new TypeError('expected a JSON object');
  const { subject, status, note } = value as Record<string, unknown>;
  if (typeof subject !== 'string' || subject.length === 0 || subject.length > MAX_SUBJECT_LENGTH) {
    throw new TypeError(`subject must be a string of 1 to ${MAX_SUBJECT_LENGTH} characters`);
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[\u0000-\u001f\u007f]/.test(subject)) {
    throw new TypeError('subject must not hold tabs, line breaks or control characters');
  }
  if (!REVIEW_STATUSES.includes(status as ReviewStatus)) {
    throw new TypeError(`status must be "pass", "fail" or "", got ${JSON.stringify(status)}`);
  }
  const text = note ?? '';
  if (typeof text !== 'string' || text.length > MAX_NOTE_LENGTH) {
    throw new TypeError(`note must be a string of at most ${MAX_NOTE_LENGTH} characters`);
  }
  return {
    subject,
    status: status as ReviewStatus,
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are replaced
    note: text.replace(/[\u0000-\u001f\u007f]/g, ' '),
    time: now.toISOString(),
  };
}

/** Parses review.tsv; rows with an unknown status or too few columns are skipped. */
export function parseReviewTsv(text: string): ReviewMark[] {
  const lines = text.split(/\r?\n/).filter((line) => line.length > 0);
  const header = (lines.shift() ?? '').split('\t');
  const column = (name: string) => header.indexOf(name);
  const [subjectColumn, statusColumn, noteColumn, timeColumn] = HEADER.map(column) as [
    number,
    number,
    number,
    number,
  ];
  if (subjectColumn < 0 || statusColumn < 0) return [];
  const marks: ReviewMark[] = [];
  for (const line of lines) {
    const cells = line.split('\t');
    const status = cells[statusColumn] ?? '';
    const subject = cells[subjectColumn] ?? '';
    if (subject === '' || !REVIEW_STATUSES.includes(status as ReviewStatus)) continue;
    marks.push({
      subject,
      status: status as ReviewStatus,
      note: noteColumn >= 0 ? (cells[noteColumn] ?? '') : '',
      time: timeColumn >= 0 ? (cells[timeColumn] ?? '') : '',
    });
  }
  return marks;
}

/** review.tsv's text for the marks, header first, one row per mark in the given order. */
export function formatReviewTsv(marks: readonly ReviewMark[]): string {
  const rows = marks.map((mark) => [mark.subject, mark.status, mark.note, mark.time].join('\t'));
  return `${[HEADER.join('\t'), ...rows].join('\n')}\n`;
}
