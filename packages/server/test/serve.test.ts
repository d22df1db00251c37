import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startViewerServer, type ViewerServer } from '../src/index.ts';
import { rawRequest } from './raw-request.ts';

describe('startViewerServer', () => {
  let root: string;
  let folder: string;
  let server: ViewerServer;
  const log: string[] = [];

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'mixseg-serve-'));
    folder = join(root, 'results');
    const dist = join(root, 'dist');
    await mkdir(join(folder, 'sub'), { recursive: true });
    await mkdir(join(dist, 'assets'), { recursive: true });
    await writeFile(join(dist, 'index.html'), '<!doctype html><title>viewer</title>');
    await writeFile(join(dist, 'assets', 'app.js'), 'console.log(1)');
    await writeFile(join(folder, 'sub-01_dseg.json'), '{"Software":"test"}');
    await writeFile(join(folder, 'sub', 'nested.tsv'), 'a\tb\n');
    await writeFile(join(folder, '.hidden'), 'secret');
    await writeFile(join(root, 'outside.txt'), 'outside the folder');
    await symlink(join(root, 'outside.txt'), join(folder, 'escape.txt'));
    await symlink(root, join(folder, 'escape-dir'));
    await symlink(join(folder, 'sub-01_dseg.json'), join(folder, 'inside-link.json'));
    server = await startViewerServer({ folder, distDir: dist, log: (line) => log.push(line) });
  });

  afterAll(async () => {
    await server.close();
    await rm(root, { recursive: true, force: true });
  });

  it('listens on 127.0.0.1 by default and serves the built viewer', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await rawRequest(server.url, '/');
    expect(page.status).toBe(200);
    expect(page.body.toString()).toContain('<title>viewer</title>');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect((await rawRequest(server.url, '/assets/app.js')).status).toBe(200);
  });

  it('serves files of the folder under /data/ and lists the folder without hidden or escaping files', async () => {
    const file = await rawRequest(server.url, '/data/sub-01_dseg.json');
    expect(file.status).toBe(200);
    expect(file.body.toString()).toBe('{"Software":"test"}');
    expect((await rawRequest(server.url, '/data/sub/nested.tsv')).body.toString()).toBe('a\tb\n');
    expect((await rawRequest(server.url, '/data/inside-link.json')).status).toBe(200);
    const listing = JSON.parse((await rawRequest(server.url, '/api/folder')).body.toString());
    expect(listing.name).toBe('results');
    expect(listing.files.map((entry: { path: string }) => entry.path)).toEqual([
      'inside-link.json',
      'sub/nested.tsv',
      'sub-01_dseg.json',
    ]);
    expect(listing.truncated).toBe(false);
    expect(listing.problems).toEqual([
      { path: 'escape-dir', reason: 'a symlink to a folder; not followed' },
      {
        path: 'escape.txt',
        reason:
          'a symlink to a file outside the results folder that no sidecar beside it names as an input; not served',
      },
    ]);
    expect(listing.inputs).toEqual({ 'sub-01_dseg.json': [] });
  });

  it.each([
    '/data/../outside.txt',
    '/data/../../etc/passwd',
    '/../../etc/passwd',
    '/data/%2e%2e/outside.txt',
    '/data/%2e%2e%2foutside.txt',
    '/data/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd',
    '/data/%252e%252e%252foutside.txt',
    '/data/..%5coutside.txt',
    '/data/..\\outside.txt',
    '/data/sub/..%2f..%2foutside.txt',
    '/data//etc/passwd',
    '/data/%2fetc%2fpasswd',
    '/data/C:%5cWindows%5cwin.ini',
    '/data/escape.txt',
    '/data/escape-dir/outside.txt',
    '/data/.hidden',
    '/data/sub-01_dseg.json%00.png',
    '/%2e%2e/outside.txt',
    '/assets/%2e%2e%2f%2e%2e%2fresults%2fsub-01_dseg.json',
    '/data/%',
  ])('refuses %s', async (path) => {
    const response = await rawRequest(server.url, path);
    // 403 for the symlinks out of the folder (with the reason), 400 or 404 for the rest
    expect(path.includes('escape') ? [403] : [400, 404]).toContain(response.status);
    expect(log.at(-1)).toMatch(new RegExp(`^mixseg view: ${response.status} GET `));
    expect(response.body.toString()).not.toContain('outside the folder');
    expect(response.body.toString()).not.toContain('root:');
    expect(response.body.toString()).not.toContain('secret');
  });

  it('answers only for its own host name (no DNS rebinding)', async () => {
    const response = await rawRequest(server.url, '/api/folder', { headers: { Host: 'evil.example:80' } });
    expect(response.status).toBe(421);
  });

  it('writes review marks atomically to review.tsv, one row per subject, and reads them back', async () => {
    const put = (body: unknown, method = 'PUT') =>
      rawRequest(server.url, '/api/review', {
        method,
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await put({ subject: 'sub-01', status: 'fail', note: 'GM leaks\tinto CSF' })).status).toBe(200);
    expect((await put({ subject: 'sub-02', status: 'pass', note: '' }, 'POST')).status).toBe(200);
    // concurrent writes are queued, none is lost
    await Promise.all([
      put({ subject: 'sub-01', status: 'pass', note: 'fine after all' }),
      put({ subject: 'sub-03', status: 'fail', note: '' }),
      put({ subject: 'sub-04', status: '', note: 'unsure' }),
    ]);
    const text = await readFile(join(folder, 'review.tsv'), 'utf8');
    const rows = text.trim().split('\n');
    expect(rows[0]).toBe('subject\tstatus\tnote\ttime');
    expect(rows.slice(1).map((row) => row.split('\t').slice(0, 3))).toEqual([
      ['sub-01', 'pass', 'fine after all'],
      ['sub-02', 'pass', ''],
      ['sub-03', 'fail', ''],
      ['sub-04', '', 'unsure'],
    ]);
    const marks = JSON.parse((await rawRequest(server.url, '/api/review')).body.toString()).marks;
    expect(marks).toHaveLength(4);
    expect((await readdir(folder)).filter((name) => name.includes('.tmp-'))).toEqual([]);
  });

  it('refuses bad review marks and non-JSON bodies', async () => {
    const send = (body: string, contentType = 'application/json') =>
      rawRequest(server.url, '/api/review', {
        method: 'PUT',
        headers: { 'Content-Type': contentType },
        body,
      });
    expect((await send('{"subject":"a","status":"maybe"}')).status).toBe(400);
    expect((await send('{"subject":"a\\nb","status":"pass"}')).status).toBe(400);
    expect((await send('{"status":"pass"}')).status).toBe(400);
    expect((await send('not json')).status).toBe(400);
    expect((await send('subject=a&status=pass', 'application/x-www-form-urlencoded')).status).toBe(415);
    expect((await rawRequest(server.url, '/data/x', { method: 'DELETE' })).status).toBe(405);
  });

  it('rejects a missing folder or an unbuilt viewer, naming it', async () => {
    await expect(
      startViewerServer({ folder: join(root, 'nope'), distDir: join(root, 'dist') }),
    ).rejects.toThrow(/nope: no such results folder/);
    await expect(startViewerServer({ folder, distDir: folder })).rejects.toThrow(/no index\.html/);
  });
});
