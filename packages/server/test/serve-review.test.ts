import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  parseReviewTable,
  REVIEW_LOCK_FILE,
  type ReviewMark,
  reviewMarks,
  startViewerServer,
  updateReviewTsv,
  validateReviewMark,
} from '../src/index.ts';
import { startServerProcess } from './serve-process.ts';

const mark = (subject: string, status: ReviewMark['status'], note = '', time = 't'): ReviewMark => ({
  subject,
  status,
  note,
  time,
});

async function put(url: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${url}api/review`, {
    method: 'PUT',
    headers: { 'Content-Type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

describe('review.tsv edits', () => {
  const handEdited = [
    'subject\tstatus\trater\tnote\ttime\tsite',
    'sub-01\tpass\tAB\tok\t2024-01-01T00:00:00.000Z\tParis',
    '# checked on paper first',
    'sub-02\tmaybe\tCD\tlook again\t\tLyon',
    'short-row',
    '',
    'sub-03\tfail\tAB\tmotion\t2024-01-02T00:00:00.000Z\tParis',
  ].join('\n');

  it('changes only the subject row, keeping other rows, columns and their order', () => {
    const text = updateReviewTsv(`${handEdited}\n`, mark('sub-03', 'pass', 'fine on second look', 'T'));
    expect(text.split('\n')).toEqual([
      'subject\tstatus\trater\tnote\ttime\tsite',
      'sub-01\tpass\tAB\tok\t2024-01-01T00:00:00.000Z\tParis',
      '# checked on paper first',
      'sub-02\tmaybe\tCD\tlook again\t\tLyon',
      'short-row',
      '',
      'sub-03\tpass\tAB\tfine on second look\tT\tParis',
      '',
    ]);
  });

  it('adds a new subject after the last row, with empty cells for the columns it does not know', () => {
    const text = updateReviewTsv(`${handEdited}\n\n`, mark('sub-04', 'fail', '', 'T'));
    expect(text.split('\n').slice(-4)).toEqual([
      'sub-03\tfail\tAB\tmotion\t2024-01-02T00:00:00.000Z\tParis',
      'sub-04\tfail\t\t\tT\t',
      '',
      '',
    ]);
  });

  it('reads the last row of a subject as its mark and replaces that row, leaving the earlier one', () => {
    const text =
      'subject\tstatus\tnote\ttime\nsub-01\tfail\tfirst\t\nsub-02\tpass\t\t\nsub-01\tpass\tsecond\t\n';
    expect(reviewMarks(parseReviewTable(text)).map((m) => [m.subject, m.status, m.note])).toEqual([
      ['sub-01', 'pass', 'second'],
      ['sub-02', 'pass', ''],
    ]);
    expect(updateReviewTsv(text, mark('sub-01', 'fail', 'third', 'T'))).toBe(
      'subject\tstatus\tnote\ttime\nsub-01\tfail\tfirst\t\nsub-02\tpass\t\t\nsub-01\tfail\tthird\tT\n',
    );
  });

  it('adds missing note and time columns, keeps CRLF line endings and a byte-order mark', () => {
    const text = '\ufeffsubject\tstatus\r\nsub-01\tpass\r\n';
    expect(updateReviewTsv(text, mark('sub-02', 'fail', 'n', 'T'))).toBe(
      '\ufeffsubject\tstatus\tnote\ttime\r\nsub-01\tpass\t\t\r\nsub-02\tfail\tn\tT\r\n',
    );
  });

  it('refuses to rewrite a file without subject and status columns', () => {
    expect(() => updateReviewTsv('participant_id\tqc\nsub-01\tok\n', mark('sub-01', 'pass'))).toThrow(
      /no "subject" and "status" columns/,
    );
  });

  it('refuses a subject holding a lone surrogate and replaces lone surrogates in notes', () => {
    expect(() => validateReviewMark({ subject: 'sub-\ud800', status: 'pass' })).toThrow(/lone surrogate/);
    expect(() => validateReviewMark({ subject: 'sub-\udc00x', status: 'pass' })).toThrow(/lone surrogate/);
    const valid = validateReviewMark({ subject: 'sub-😀-é', status: 'pass', note: 'a\ud800b' });
    expect(valid.subject).toBe('sub-😀-é');
    expect(valid.note).toBe('a\ufffdb');
  });
});

describe('review marks through the server', () => {
  let root: string;
  let dist: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'mixseg-review-'));
    dist = join(root, 'dist');
    await mkdir(dist);
    await writeFile(join(dist, 'index.html'), '<!doctype html><title>viewer</title>');
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function newFolder(name: string, review?: string): Promise<string> {
    const folder = join(root, name);
    await mkdir(folder);
    if (review !== undefined) await writeFile(join(folder, 'review.tsv'), review);
    return folder;
  }

  it('keeps all 200 marks that two server processes save at once, and the rows and columns it does not know', async () => {
    const folder = await newFolder(
      'two-servers',
      'subject\tstatus\trater\tnote\ttime\n# hand-written remark\nsub-000\tmaybe\tAB\tsee paper\t\n',
    );
    const servers = await Promise.all([startServerProcess(folder, dist), startServerProcess(folder, dist)]);
    try {
      expect(servers[0]!.url).not.toBe(servers[1]!.url);
      const subjects = Array.from({ length: 200 }, (_, n) => `sub-${String(n).padStart(3, '0')}`);
      const answers = await Promise.all(
        subjects.map((subject, n) =>
          put(servers[n % 2]!.url, { subject, status: n % 3 === 0 ? 'fail' : 'pass', note: `note ${n}` }),
        ),
      );
      expect(answers.map((answer) => answer.status)).toEqual(subjects.map(() => 200));
      const text = await readFile(join(folder, 'review.tsv'), 'utf8');
      const lines = text.trimEnd().split('\n');
      expect(lines[0]).toBe('subject\tstatus\trater\tnote\ttime');
      expect(lines[1]).toBe('# hand-written remark');
      // sub-000 kept its row (and rater) and its place; the 199 others were added after it
      expect(lines[2]).toMatch(/^sub-000\tfail\tAB\tnote 0\t\d{4}-/);
      expect(lines).toHaveLength(2 + 200);
      const marks = reviewMarks(parseReviewTable(text));
      expect(new Set(marks.map((m) => m.subject))).toEqual(new Set(subjects));
      for (const m of marks) expect(m.note).toBe(`note ${Number(m.subject.slice(4))}`);
      // both servers read the same 200
      for (const server of servers) {
        const read = (await (await fetch(`${server.url}api/review`)).json()) as { marks: ReviewMark[] };
        expect(read.marks).toHaveLength(200);
      }
      expect((await readdir(folder)).sort()).toEqual(['review.tsv']);
      expect(servers.map((server) => server.stderr())).toEqual(['', '']);
    } finally {
      await Promise.all(servers.map((server) => server.stop()));
    }
  });

  it('answers 400 for a subject with a lone surrogate and never adds a duplicate row', async () => {
    const folder = await newFolder('surrogate');
    const lines: string[] = [];
    const server = await startViewerServer({ folder, distDir: dist, log: (line) => lines.push(line) });
    try {
      const name = 'sub-\u00e9\ud83d\ude00';
      for (let n = 0; n < 3; n++)
        expect((await put(server.url, { subject: name, status: 'pass' })).status).toBe(200);
      // JSON.stringify writes a lone surrogate as the escape \ud800, as a broken page would send it
      const refused = await put(server.url, '{"subject":"sub-\\ud800","status":"pass","note":""}');
      expect(refused.status).toBe(400);
      expect(refused.json['error']).toMatch(/lone surrogate/);
      const text = await readFile(join(folder, 'review.tsv'), 'utf8');
      expect(
        text
          .trimEnd()
          .split('\n')
          .map((line) => line.split('\t')[0]),
      ).toEqual(['subject', name]);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^mixseg view: 400 PUT \/api\/review: subject must be well-formed Unicode/);
    } finally {
      await server.close();
    }
  });

  it('refuses with 409 to overwrite a review.tsv that has no subject and status columns', async () => {
    const original = 'participant_id\tqc\nsub-01\tok\n';
    const folder = await newFolder('foreign', original);
    const lines: string[] = [];
    const server = await startViewerServer({ folder, distDir: dist, log: (line) => lines.push(line) });
    try {
      const answer = await put(server.url, { subject: 'sub-01', status: 'pass' });
      expect(answer.status).toBe(409);
      expect(answer.json['error']).toMatch(
        /^review\.tsv: no "subject" and "status" columns.*not overwritten/,
      );
      expect((await fetch(`${server.url}api/review`)).status).toBe(409);
      expect(await readFile(join(folder, 'review.tsv'), 'utf8')).toBe(original);
      expect(lines).toHaveLength(2);
    } finally {
      await server.close();
    }
  });

  it('breaks a lock left by a dead process once it is stale, and waits for a live one', async () => {
    const folder = await newFolder('locks');
    const lines: string[] = [];
    const server = await startViewerServer({
      folder,
      distDir: dist,
      log: (line) => lines.push(line),
      review: { staleLockMs: 60_000, lockTimeoutMs: 300 },
    });
    try {
      // a fresh lock (another viewer saving, or one that died a moment ago): 503 after the timeout
      await writeFile(join(folder, REVIEW_LOCK_FILE), '99999@elsewhere abc\n');
      const blocked = await put(server.url, { subject: 'sub-01', status: 'pass' });
      expect(blocked.status).toBe(503);
      expect(blocked.json['error']).toMatch(/locked by another viewer .*process 99999@elsewhere/);
      // the same lock, two minutes old: broken, and the mark saved
      const old = new Date(Date.now() - 120_000);
      await utimes(join(folder, REVIEW_LOCK_FILE), old, old);
      expect((await put(server.url, { subject: 'sub-01', status: 'pass' })).status).toBe(200);
      expect(await readdir(folder)).toEqual(['review.tsv']);
    } finally {
      await server.close();
    }
  });

  it('keeps the permissions of an existing review.tsv', async () => {
    const folder = await newFolder('mode', 'subject\tstatus\tnote\ttime\n');
    await chmod(join(folder, 'review.tsv'), 0o664);
    const server = await startViewerServer({ folder, distDir: dist, log: () => undefined });
    try {
      expect((await put(server.url, { subject: 'sub-01', status: 'fail' })).status).toBe(200);
      expect((await stat(join(folder, 'review.tsv'))).mode & 0o777).toBe(0o664);
    } finally {
      await server.close();
    }
  });
});
