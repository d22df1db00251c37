import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FolderListing, startViewerServer, type ViewerServer } from '../src/index.ts';
import { rawRequest } from './raw-request.ts';
import { PERMISSIONS_APPLY, type ServerProcess, startServerProcess } from './serve-process.ts';

async function makeRoot(prefix: string): Promise<{ root: string; dist: string }> {
  const root = await mkdtemp(join(tmpdir(), prefix));
  await chmod(root, 0o755); // for the server running as nobody
  const dist = join(root, 'dist');
  await mkdir(dist);
  await writeFile(join(dist, 'index.html'), '<!doctype html><title>viewer</title>');
  return { root, dist };
}

describe.skipIf(!PERMISSIONS_APPLY)(
  'entries the server cannot read (file modes; as nobody when run by root)',
  () => {
    let root: string;
    let folder: string;
    let server: ServerProcess;

    beforeAll(async () => {
      const made = await makeRoot('mixseg-unreadable-');
      root = made.root;
      folder = join(root, 'results');
      await mkdir(join(folder, 'sub-03'), { recursive: true });
      await mkdir(join(folder, 'sub-04'));
      await writeFile(join(folder, 'sub-01_dseg.nii.gz'), 'one');
      await writeFile(join(folder, 'sub-02_dseg.nii.gz'), 'two');
      await writeFile(join(folder, 'sub-03', 'sub-03_dseg.nii.gz'), 'three');
      await writeFile(join(folder, 'sub-04', 'sub-04_dseg.nii.gz'), 'four');
      await writeFile(join(folder, 'review.tsv'), 'subject\tstatus\tnote\ttime\n');
      await symlink(join(folder, 'gone.nii.gz'), join(folder, 'broken.nii.gz'));
      await chmod(join(folder, 'sub-02_dseg.nii.gz'), 0o000);
      await chmod(join(folder, 'sub-03'), 0o000); // not even listed
      await chmod(join(folder, 'sub-04'), 0o644); // listed, but its entries cannot be looked at
      await chmod(join(folder, 'review.tsv'), 0o000);
      server = await startServerProcess(folder, made.dist, true);
    });

    afterAll(async () => {
      await server?.stop();
      await rm(root, { recursive: true, force: true });
    });

    it('lists what it can and says, per entry, what it cannot and why', async () => {
      const reply = await rawRequest(server.url, '/api/folder');
      expect(reply.status).toBe(200);
      const listing = reply.json<FolderListing>();
      expect(listing.files.map((file) => file.path)).toEqual([
        'review.tsv',
        'sub-01_dseg.nii.gz',
        'sub-02_dseg.nii.gz',
      ]);
      expect(listing.truncated).toBe(false);
      expect(listing.problems).toEqual([
        { path: 'broken.nii.gz', reason: 'a broken symlink (its target does not exist)' },
        { path: 'sub-03', reason: 'permission denied' },
        { path: 'sub-04/sub-04_dseg.nii.gz', reason: 'permission denied' },
      ]);
    });

    it.each([
      ['/data/sub-02_dseg.nii.gz', 403, 'sub-02_dseg.nii.gz: permission denied'],
      ['/data/sub-03/sub-03_dseg.nii.gz', 403, 'sub-03/sub-03_dseg.nii.gz: permission denied'],
      ['/data/sub-04/sub-04_dseg.nii.gz', 403, 'sub-04/sub-04_dseg.nii.gz: permission denied'],
      ['/data/broken.nii.gz', 404, 'broken.nii.gz: a broken symlink (its target does not exist)'],
      ['/data/sub-05_dseg.nii.gz', 404, 'sub-05_dseg.nii.gz: no such file'],
      ['/api/review', 403, 'review.tsv: permission denied'],
    ])('answers GET %s with %i and the reason, and logs one line', async (path, status, reason) => {
      const reply = await rawRequest(server.url, path);
      expect(reply.status).toBe(status);
      expect(reply.json()).toEqual({ error: reason });
      const line = `mixseg view: ${status} GET ${path}: ${reason}\n`;
      expect(await server.waitForStderr(line)).toContain(line);
    });

    it('answers a save it cannot write with 403 and the reason', async () => {
      const response = await fetch(`${server.url}api/review`, {
        method: 'PUT',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ subject: 'sub-01', status: 'pass' }),
      });
      expect(response.status).toBe(403);
      expect(await response.json()).toEqual({
        error: 'review.tsv: cannot write in the results folder: permission denied',
      });
    });

    it('logs each listing problem once, one line each', async () => {
      await rawRequest(server.url, '/api/folder');
      const lines = (await server.waitForStderr('mixseg view: not listed: sub-04/')).split('\n');
      for (const path of ['broken.nii.gz', 'sub-03', 'sub-04/sub-04_dseg.nii.gz']) {
        expect(lines.filter((line) => line.startsWith(`mixseg view: not listed: ${path}: `))).toHaveLength(1);
      }
    });

    it('answers 403 naming the folder when the folder itself cannot be read', async () => {
      const closed = join(root, 'closed');
      await mkdir(closed);
      await chmod(closed, 0o000);
      const other = await startServerProcess(closed, join(root, 'dist'), true);
      try {
        const reply = await rawRequest(other.url, '/api/folder');
        expect(reply.status).toBe(403);
        expect(reply.json()).toEqual({ error: '.: permission denied' });
        const line = 'mixseg view: 403 GET /api/folder: .: permission denied\n';
        expect(await other.waitForStderr(line)).toBe(line);
      } finally {
        await other.stop();
      }
    });
  },
);

describe('listing a large folder', () => {
  let root: string;
  let server: ViewerServer;
  let limited: ViewerServer;
  const log: string[] = [];

  beforeAll(async () => {
    const made = await makeRoot('mixseg-large-');
    root = made.root;
    const folder = join(root, 'study');
    // a 4,100-subject BIDS study, 5 files each: 20,500 files (the old listing stopped at 20,000)
    for (let batch = 0; batch < 41; batch++) {
      await Promise.all(
        Array.from({ length: 100 }, async (_, n) => {
          const subject = `sub-${String(batch * 100 + n).padStart(4, '0')}`;
          const anat = join(folder, subject, 'anat');
          await mkdir(anat, { recursive: true });
          await Promise.all(
            [
              'dseg.nii.gz',
              'label-CSF_probseg.nii.gz',
              'label-GM_probseg.nii.gz',
              'label-WM_probseg.nii.gz',
            ].map((suffix) => writeFile(join(anat, `${subject}_${suffix}`), 'x')),
          );
          await writeFile(join(anat, `${subject}_dseg.json`), '{"Sources":[]}');
        }),
      );
    }
    await mkdir(join(folder, 'a', 'b', 'c'), { recursive: true });
    await writeFile(join(folder, 'a', 'b', 'c', 'deep.txt'), 'deep');
    server = await startViewerServer({ folder, distDir: made.dist, log: (line) => log.push(line) });
    limited = await startViewerServer({
      folder,
      distDir: made.dist,
      listing: { maxFiles: 1000, maxDepth: 2 },
      log: () => undefined,
    });
  });

  afterAll(async () => {
    await server.close();
    await limited.close();
    await rm(root, { recursive: true, force: true });
  });

  it('lists all 20,501 files of a 4,100-subject study', async () => {
    const listing = (await rawRequest(server.url, '/api/folder')).json<FolderListing>();
    expect(listing.truncated).toBe(false);
    expect(listing.files).toHaveLength(20_501);
    expect(listing.files.filter((file) => file.path.endsWith('_dseg.nii.gz'))).toHaveLength(4100);
    expect(listing.files.at(-1)).toEqual({ path: 'sub-4099/anat/sub-4099_label-WM_probseg.nii.gz', size: 1 });
    expect(Object.keys(listing.inputs)).toHaveLength(4100);
    expect(listing.problems).toEqual([]);
    expect(log).toEqual([]);
  });

  it('says in the JSON when the listing is cut, and which folders lie too deep', async () => {
    const listing = (await rawRequest(limited.url, '/api/folder')).json<FolderListing>();
    expect(listing.truncated).toBe(true);
    expect(listing.maxFiles).toBe(1000);
    expect(listing.files).toHaveLength(1000);
    expect(listing.problems).toEqual([{ path: 'a/b/c', reason: 'deeper than 2 folder levels; not listed' }]);
  });

  it('answers a listing that has not changed with 304', async () => {
    const first = await rawRequest(server.url, '/api/folder');
    const etag = first.headers['etag'] as string;
    expect(etag).toMatch(/^"[\w-]+"$/);
    const again = await rawRequest(server.url, '/api/folder', { headers: { 'If-None-Match': etag } });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
    await writeFile(join(root, 'study', 'new.txt'), 'new');
    const changed = await rawRequest(server.url, '/api/folder', { headers: { 'If-None-Match': etag } });
    expect(changed.status).toBe(200);
    expect(changed.headers['etag']).not.toBe(etag);
  });
});

describe('downloads that are not repeated', () => {
  let root: string;
  let folder: string;
  let server: ViewerServer;
  const bytes = randomBytes(10_000);

  beforeAll(async () => {
    const made = await makeRoot('mixseg-cache-');
    root = made.root;
    folder = join(root, 'results');
    await mkdir(folder);
    await writeFile(join(folder, 'sub-01_dseg.nii.gz'), bytes);
    await writeFile(join(folder, 'empty.nii'), '');
    server = await startViewerServer({ folder, distDir: made.dist, log: () => undefined });
  });

  afterAll(async () => {
    await server.close();
    await rm(root, { recursive: true, force: true });
  });

  it('sends ETag and Last-Modified, and 304 to If-None-Match or If-Modified-Since', async () => {
    const first = await rawRequest(server.url, '/data/sub-01_dseg.nii.gz');
    expect(first.status).toBe(200);
    expect(first.body.equals(bytes)).toBe(true);
    expect(first.headers['accept-ranges']).toBe('bytes');
    expect(first.headers['content-type']).toBe('application/gzip');
    const etag = first.headers['etag'] as string;
    const modified = first.headers['last-modified'] as string;
    expect(etag).toMatch(/^"[0-9a-z]+-[0-9a-z]+-[0-9a-z]+"$/);
    expect(Date.parse(modified)).toBeGreaterThan(0);
    const cached = await rawRequest(server.url, '/data/sub-01_dseg.nii.gz', {
      headers: { 'If-None-Match': `"other", ${etag}` },
    });
    expect(cached.status).toBe(304);
    expect(cached.body.length).toBe(0);
    expect(cached.headers['etag']).toBe(etag);
    expect(
      (
        await rawRequest(server.url, '/data/sub-01_dseg.nii.gz', {
          headers: { 'If-None-Match': `W/${etag}` },
        })
      ).status,
    ).toBe(304);
    expect(
      (
        await rawRequest(server.url, '/data/sub-01_dseg.nii.gz', {
          headers: { 'If-Modified-Since': modified },
        })
      ).status,
    ).toBe(304);
    // If-None-Match wins over If-Modified-Since
    expect(
      (
        await rawRequest(server.url, '/data/sub-01_dseg.nii.gz', {
          headers: {
            'If-None-Match': '"other"',
            'If-Modified-Since': modified,
          },
        })
      ).status,
    ).toBe(200);
  });

  it('sends the file again when it changed', async () => {
    const before = (await rawRequest(server.url, '/data/sub-01_dseg.nii.gz')).headers['etag'] as string;
    await writeFile(join(folder, 'sub-01_dseg.nii.gz'), bytes.subarray(0, 5000));
    const later = new Date(Date.now() + 5000);
    await utimes(join(folder, 'sub-01_dseg.nii.gz'), later, later);
    const after = await rawRequest(server.url, '/data/sub-01_dseg.nii.gz', {
      headers: { 'If-None-Match': before },
    });
    expect(after.status).toBe(200);
    expect(after.body.length).toBe(5000);
    await writeFile(join(folder, 'sub-01_dseg.nii.gz'), bytes);
  });

  it('answers one byte range with 206 and a range outside the file with 416', async () => {
    const cases: [string, number, number, number][] = [
      ['bytes=0-99', 206, 0, 99],
      ['bytes=9990-', 206, 9990, 9999],
      ['bytes=-10', 206, 9990, 9999],
      ['bytes=9000-20000', 206, 9000, 9999],
    ];
    for (const [range, status, first, last] of cases) {
      const reply = await rawRequest(server.url, '/data/sub-01_dseg.nii.gz', { headers: { Range: range } });
      expect([range, reply.status]).toEqual([range, status]);
      expect(reply.headers['content-range']).toBe(`bytes ${first}-${last}/10000`);
      expect(reply.body.equals(bytes.subarray(first, last + 1))).toBe(true);
    }
    const outside = await rawRequest(server.url, '/data/sub-01_dseg.nii.gz', {
      headers: { Range: 'bytes=10000-' },
    });
    expect(outside.status).toBe(416);
    expect(outside.headers['content-range']).toBe('bytes */10000');
    expect((await rawRequest(server.url, '/data/empty.nii', { headers: { Range: 'bytes=0-' } })).status).toBe(
      416,
    );
    // several ranges, or nonsense: the whole file
    for (const range of ['bytes=0-1,5-6', 'bytes=5-1', 'lines=1-2']) {
      const whole = await rawRequest(server.url, '/data/sub-01_dseg.nii.gz', { headers: { Range: range } });
      expect([range, whole.status, whole.body.length]).toEqual([range, 200, 10_000]);
    }
  });

  it('honours If-Range: the range while the file is the same, else the whole file', async () => {
    const etag = (await rawRequest(server.url, '/data/sub-01_dseg.nii.gz')).headers['etag'] as string;
    const same = await rawRequest(server.url, '/data/sub-01_dseg.nii.gz', {
      headers: { Range: 'bytes=0-9', 'If-Range': etag },
    });
    expect(same.status).toBe(206);
    expect(same.body.length).toBe(10);
    const stale = await rawRequest(server.url, '/data/sub-01_dseg.nii.gz', {
      headers: {
        Range: 'bytes=0-9',
        'If-Range': '"old"',
      },
    });
    expect(stale.status).toBe(200);
    expect(stale.body.length).toBe(10_000);
  });

  it('answers HEAD with the headers only', async () => {
    const head = await rawRequest(server.url, '/data/sub-01_dseg.nii.gz', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe('10000');
    expect(head.body.length).toBe(0);
  });
});
