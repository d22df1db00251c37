/**
 * The study review's marks and their file, `review.tsv` in the results folder: one row per
 * subject, columns `subject`, `status` (`pass`, `fail`, or empty for "not decided"), `note` and
 * `time` (ISO 8601, when the mark was set). People edit the file by hand and add columns of their
 * own, so setting a mark changes only that subject's `status`, `note` and `time` cells: every
 * other row (also ones this module does not understand) and every other column stay as they
 * were, in their order. When a subject has several rows, the last one is its mark (as when
 * reading the rows in order) and the one a new mark replaces. Subject names are compared exactly
 * (no Unicode normalisation). Pure: used by the server and the page.
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
const HEADER = ['subject', 'status', 'note', 'time'] as const;
/** Longest accepted subject name and note, in characters. */
export const MAX_SUBJECT_LENGTH = 256;
export const MAX_NOTE_LENGTH = 4000;

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is matched
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/g;
// In a `u` regular expression a well-formed surrogate pair is one code point, so this matches
// only lone (unpaired) surrogates: UTF-16 that no UTF-8 file can hold.
const LONE_SURROGATE = /\p{Surrogate}/gu;

/**
 * Checks a mark sent by the page and returns it with `time` set to now. Tabs, line breaks and
 * other control characters in the note become spaces (the file is one row per subject), lone
 * surrogates in the note become U+FFFD (what writing it as UTF-8 would make of them anyway).
 *
 * A subject name holding a lone surrogate is refused rather than changed: written as UTF-8 it
 * would come back as U+FFFD, a different name, so every later save would add another row. Such a
 * name cannot come from a file name or a TSV file (both are UTF-8), only from a broken client.
 *
 * @throws {TypeError} saying what is wrong (subject empty, too long, holding a tab, line break,
 *   control character or lone surrogate; status not pass, fail or empty; note not a string or too
 *   long).
 */
export function validateReviewMark(value: unknown, now = new Date()): ReviewMark {
  if (value === null || typeof value !== 'object') throw new TypeError('expected a JSON object');
  const { subject, status, note } = value as Record<string, unknown>;
  if (typeof subject !== 'string' || subject.length === 0 || subject.length > MAX_SUBJECT_LENGTH) {
    throw new TypeError(`subject must be a string of 1 to ${MAX_SUBJECT_LENGTH} characters`);
  }
  if (new RegExp(CONTROL_CHARACTERS.source).test(subject)) {
    throw new TypeError('subject must not hold tabs, line breaks or control characters');
  }
  if (new RegExp(LONE_SURROGATE.source, 'u').test(subject)) {
    throw new TypeError(
      'subject must be well-formed Unicode: it holds a lone surrogate, which UTF-8 cannot store',
    );
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
    note: text.replace(CONTROL_CHARACTERS, ' ').replace(LONE_SURROGATE, '\ufffd'),
    time: now.toISOString(),
  };
}

/** review.tsv as read: its header, its other lines as they are, and how they were written. */
export interface ReviewTable {
  header: string[];
  /** Every line after the header, unchanged (blank and malformed ones too); no line endings. */
  lines: string[];
  lineEnding: '\n' | '\r\n';
  /** Whether the file starts with a UTF-8 byte-order mark (spreadsheets write one). */
  byteOrderMark: boolean;
}

/** Thrown for a review.tsv whose header has no `subject` or `status` column. */
export class ReviewFileError extends Error {}

/**
 * Splits review.tsv's text into a {@link ReviewTable}. Empty (or blank) text gives the standard
 * header with no rows.
 *
 * @throws {ReviewFileError} when the header has no `subject` or no `status` column (then the file
 *   is not one this module may rewrite).
 */
export function parseReviewTable(text: string): ReviewTable {
  const byteOrderMark = text.startsWith('\ufeff');
  const body = byteOrderMark ? text.slice(1) : text;
  const lineEnding = /^[^\n]*\r\n/.test(body) ? '\r\n' : '\n';
  if (body.trim() === '') return { header: [...HEADER], lines: [], lineEnding, byteOrderMark };
  const lines = body.split(/\r?\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  const header = lines.shift()!.split('\t');
  const names = header.map((name) => name.trim());
  if (!names.includes('subject') || !names.includes('status')) {
    throw new ReviewFileError(
      `no "subject" and "status" columns in its header (${JSON.stringify(header.join(' ').slice(0, 80))})`,
    );
  }
  return { header, lines, lineEnding, byteOrderMark };
}

function columns(table: ReviewTable): { subject: number; status: number; note: number; time: number } {
  const names = table.header.map((name) => name.trim());
  return {
    subject: names.indexOf('subject'),
    status: names.indexOf('status'),
    note: names.indexOf('note'),
    time: names.indexOf('time'),
  };
}

/** The marks of a table: one per subject (its last row), in the order subjects first appear. */
export function reviewMarks(table: ReviewTable): ReviewMark[] {
  const column = columns(table);
  const marks = new Map<string, ReviewMark | undefined>();
  for (const line of table.lines) {
    const cells = line.split('\t');
    const subject = cells[column.subject] ?? '';
    // rows without a subject or a status cell (comments, notes) are not marks
    if (subject.trim() === '' || cells.length <= column.status) continue;
    const status = cells[column.status]!.trim();
    marks.set(
      subject,
      REVIEW_STATUSES.includes(status as ReviewStatus)
        ? {
            subject,
            status: status as ReviewStatus,
            note: column.note >= 0 ? (cells[column.note] ?? '') : '',
            time: column.time >= 0 ? (cells[column.time] ?? '') : '',
          }
        : undefined, // a status this module does not know: no mark, the row is kept as it is
    );
  }
  return [...marks.values()].filter((mark): mark is ReviewMark => mark !== undefined);
}

/**
 * Sets one subject's mark in the table (its last row, else a new row at the end). Adds a missing
 * `note` or `time` column at the end of the header, and an empty cell for it to every row that
 * had exactly the header's cells; other rows and cells are left as they are.
 */
export function setReviewMark(table: ReviewTable, mark: ReviewMark): ReviewTable {
  const header = [...table.header];
  let lines = [...table.lines];
  let column = columns(table);
  for (const name of ['note', 'time'] as const) {
    if (column[name] >= 0) continue;
    const width = header.length;
    header.push(name);
    lines = lines.map((line) => (line !== '' && line.split('\t').length === width ? `${line}\t` : line));
    column = columns({ ...table, header });
  }
  let row = -1;
  for (let n = lines.length - 1; n >= 0 && row < 0; n--) {
    if (lines[n]!.split('\t')[column.subject] === mark.subject) row = n;
  }
  const cells = row >= 0 ? lines[row]!.split('\t') : [];
  while (cells.length < header.length) cells.push('');
  cells[column.subject] = mark.subject;
  cells[column.status] = mark.status;
  cells[column.note] = mark.note;
  cells[column.time] = mark.time;
  const line = cells.join('\t');
  if (row >= 0) lines[row] = line;
  else {
    // a new row goes after the last non-blank line
    let end = lines.length;
    while (end > 0 && lines[end - 1]!.trim() === '') end--;
    lines.splice(end, 0, line);
  }
  return { ...table, header, lines };
}

/** The table's text: header and lines with its line ending, a final line ending, its byte-order mark. */
export function formatReviewTable(table: ReviewTable): string {
  const text = [table.header.join('\t'), ...table.lines].join(table.lineEnding) + table.lineEnding;
  return table.byteOrderMark ? `\ufeff${text}` : text;
}

/**
 * The marks of review.tsv's text. A file without `subject` and `status` columns holds none.
 */
export function parseReviewTsv(text: string): ReviewMark[] {
  try {
    return reviewMarks(parseReviewTable(text));
  } catch (error) {
    if (error instanceof ReviewFileError) return [];
    throw error;
  }
}

/**
 * review.tsv's text with `mark` set, from its present text (undefined when there is no file).
 *
 * @throws {ReviewFileError} when the present text has no `subject` and `status` columns.
 */
export function updateReviewTsv(text: string | undefined, mark: ReviewMark): string {
  return formatReviewTable(setReviewMark(parseReviewTable(text ?? ''), mark));
}

/** review.tsv's text for the marks, header first, one row per mark in the given order. */
export function formatReviewTsv(marks: readonly ReviewMark[]): string {
  return formatReviewTable(
    marks.reduce(setReviewMark, { header: [...HEADER], lines: [], lineEnding: '\n', byteOrderMark: false }),
  );
}
