import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FolderListing, startViewerServer, type ViewerServer } from '../src/index.ts';
import { rawRequest } from './raw-request.ts';

async function write(path: string, content: string | Buffer): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, content);
}

describe('the input images that sidecars name', () => {
  let root: string;
  let folder: string;
  let server: ViewerServer;
  const log: string[] = [];
  const image = randomBytes(3000);
  const bidsImage = randomBytes(2000);
  const oldImage = randomBytes(1000);

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'mixseg-inputs-'));
    folder = join(root, 'out');
    const dist = join(root, 'dist');
    await write(join(dist, 'index.html'), '<!doctype html><title>viewer</title>');
    // the inputs, outside the results folder
    await write(join(root, 'sri24', 'spgr.nii.gz'), image);
    await write(join(root, 'sri24', 'notes.txt'), 'private notes');
    await write(join(root, 'raw', 'dataset_description.json'), '{"Name":"raw","BIDSVersion":"1.9.0"}');
    await write(join(root, 'raw', 'sub-02', 'ses-1', 'anat', 'sub-02_ses-1_T1w.nii.gz'), bidsImage);
    await write(join(root, 'old', 'sub-03.nii'), oldImage);
    // the results: flat (mixseg segment sri24/spgr.nii.gz -o out), BIDS, an old sidecar, odd ones
    await write(
      join(folder, 'dataset_description.json'),
      JSON.stringify({ DatasetLinks: { raw: '../raw' } }),
    );
    await write(join(folder, 'spgr_dseg.nii.gz'), 'labels');
    await write(
      join(folder, 'spgr_dseg.json'),
      JSON.stringify({ Sources: ['../sri24/spgr.nii.gz', '../sri24/spgr_mask.nii.gz'] }),
    );
    await write(
      join(folder, 'sub-02', 'ses-1', 'anat', 'sub-02_ses-1_dseg.json'),
      JSON.stringify({ Sources: ['bids:raw:sub-02/ses-1/anat/sub-02_ses-1_T1w.nii.gz'] }),
    );
    await write(
      join(folder, 'sub-03_dseg.json'),
      JSON.stringify({ Inputs: [join(root, 'old', 'sub-03.nii')] }),
    );
    await write(
      join(folder, 'odd_dseg.json'),
      JSON.stringify({
        Sources: ['../sri24/notes.txt', 'bids:nope:x.nii.gz', 42, '/etc/passwd', 'bids::spgr_dseg.nii.gz'],
      }),
    );
    await write(join(folder, 'broken_dseg.json'), '{"Sources": [');
    // symlinks: the image linked beside its results (named by spgr_dseg.json: served), a file
    // that no sidecar names (refused), the image linked where no sidecar beside it names it
    await symlink(join(root, 'sri24', 'spgr.nii.gz'), join(folder, 'spgr.nii.gz'));
    await symlink(join(root, 'sri24', 'notes.txt'), join(folder, 'notes.txt'));
    await symlink(join(root, 'sri24', 'spgr.nii.gz'), join(folder, 'sub-02', 'spgr.nii.gz'));
    // a sidecar that is itself a symlink out of the folder
    await write(
      join(root, 'elsewhere', 'evil_dseg.json'),
      JSON.stringify({ Sources: ['../sri24/spgr.nii.gz'] }),
    );
    await symlink(join(root, 'elsewhere', 'evil_dseg.json'), join(folder, 'evil_dseg.json'));
    server = await startViewerServer({ folder, distDir: dist, log: (line) => log.push(line) });
  });

  afterAll(async () => {
    await server.close();
    await rm(root, { recursive: true, force: true });
  });

  it('lists every sidecar inputs with the URL to fetch each, or why it cannot be served', async () => {
    const listing = (await rawRequest(server.url, '/api/folder')).json<FolderListing>();
    expect(listing.inputs).toEqual({
      'odd_dseg.json': [
        {
          source: '../sri24/notes.txt',
          name: 'notes.txt',
          error: 'not an image (.nii.gz, .nii, .png, .jpg, .jpeg)',
        },
        {
          source: 'bids:nope:x.nii.gz',
          name: 'x.nii.gz',
          error: 'dataset_description.json has no DatasetLinks.nope',
        },
        { source: '/etc/passwd', name: 'passwd', error: 'not an image (.nii.gz, .nii, .png, .jpg, .jpeg)' },
        {
          source: 'bids::spgr_dseg.nii.gz',
          name: 'spgr_dseg.nii.gz',
          url: 'inputs/odd_dseg.json/3',
          path: 'spgr_dseg.nii.gz',
          size: 6,
        },
      ],
      'spgr_dseg.json': [
        { source: '../sri24/spgr.nii.gz', name: 'spgr.nii.gz', url: 'inputs/spgr_dseg.json/0', size: 3000 },
        {
          source: '../sri24/spgr_mask.nii.gz',
          name: 'spgr_mask.nii.gz',
          error: `no such file (${join(root, 'sri24', 'spgr_mask.nii.gz')})`,
        },
      ],
      'sub-02/ses-1/anat/sub-02_ses-1_dseg.json': [
        {
          source: 'bids:raw:sub-02/ses-1/anat/sub-02_ses-1_T1w.nii.gz',
          name: 'sub-02_ses-1_T1w.nii.gz',
          url: 'inputs/sub-02/ses-1/anat/sub-02_ses-1_dseg.json/0',
          size: 2000,
        },
      ],
      'sub-03_dseg.json': [
        {
          source: join(root, 'old', 'sub-03.nii'),
          name: 'sub-03.nii',
          url: 'inputs/sub-03_dseg.json/0',
          size: 1000,
        },
      ],
    });
    expect(listing.problems).toEqual([
      { path: 'broken_dseg.json', reason: expect.stringMatching(/^not valid JSON/) },
      { path: 'evil_dseg.json', reason: expect.stringMatching(/outside the results folder/) },
      { path: 'notes.txt', reason: expect.stringMatching(/outside the results folder/) },
      { path: 'sub-02/spgr.nii.gz', reason: expect.stringMatching(/outside the results folder/) },
    ]);
  });

  it('serves each named input, read-only, wherever it is', async () => {
    const flat = await rawRequest(server.url, '/inputs/spgr_dseg.json/0');
    expect(flat.status).toBe(200);
    expect(flat.body.equals(image)).toBe(true);
    expect(
      (await rawRequest(server.url, '/inputs/sub-02/ses-1/anat/sub-02_ses-1_dseg.json/0')).body.equals(
        bidsImage,
      ),
    ).toBe(true);
    expect((await rawRequest(server.url, '/inputs/sub-03_dseg.json/0')).body.equals(oldImage)).toBe(true);
    expect((await rawRequest(server.url, '/inputs/odd_dseg.json/3')).body.toString()).toBe('labels');
  });

  it('answers with a status and a reason naming the sidecar for inputs it does not serve', async () => {
    const cases: [string, number, RegExp][] = [
      [
        '/inputs/odd_dseg.json/0',
        403,
        /^odd_dseg\.json: input 0 \("\.\.\/sri24\/notes\.txt"\): not an image/,
      ],
      ['/inputs/odd_dseg.json/1', 404, /DatasetLinks\.nope/],
      ['/inputs/odd_dseg.json/2', 403, /"\/etc\/passwd"\): not an image/],
      ['/inputs/odd_dseg.json/4', 404, /^odd_dseg\.json: no input 4 \(it names 4\)/],
      ['/inputs/spgr_dseg.json/1', 404, /input 1 .*no such file/],
      ['/inputs/broken_dseg.json/0', 500, /^broken_dseg\.json: not valid JSON/],
      ['/inputs/evil_dseg.json/0', 403, /^evil_dseg\.json: a symlink to a file outside the results folder/],
      ['/inputs/missing_dseg.json/0', 404, /^missing_dseg\.json: no such file/],
      ['/inputs/dataset_description.json/0', 404, /not a sidecar/],
      ['/inputs/spgr_dseg.json', 400, /expected \/inputs\/<sidecar path>\/<input number>/],
      ['/inputs/spgr_dseg.json/-1', 400, /expected/],
      ['/inputs/spgr_dseg.json/0x1', 400, /expected/],
    ];
    for (const [path, status, reason] of cases) {
      const response = await rawRequest(server.url, path);
      expect([path, response.status]).toEqual([path, status]);
      expect(response.json().error).toMatch(reason);
      expect(response.body.toString()).not.toContain('private notes');
    }
  });

  it.each([
    '/inputs/..%2f..%2fsri24%2fnotes.txt/0',
    '/inputs/../sri24/spgr_dseg.json/0',
    '/inputs/%2e%2e/out/spgr_dseg.json/0',
    '/inputs/sub-02/..%2f..%2fspgr_dseg.json/0',
    '/inputs//etc/passwd_dseg.json/0',
    '/inputs/%2fetc%2fx_dseg.json/0',
    '/inputs/.hidden_dseg.json/0',
    '/inputs/a%00_dseg.json/0',
    '/inputs/..%5cspgr_dseg.json/0',
  ])('refuses the traversal %s', async (path) => {
    const response = await rawRequest(server.url, path);
    expect([400, 404]).toContain(response.status);
    expect(response.body.toString()).not.toContain('private notes');
  });

  it('serves a symlink in the folder only when a sidecar beside it names its target, else 403 with the reason', async () => {
    const linked = await rawRequest(server.url, '/data/spgr.nii.gz');
    expect(linked.status).toBe(200);
    expect(linked.body.equals(image)).toBe(true);
    const listing = (await rawRequest(server.url, '/api/folder')).json<FolderListing>();
    expect(listing.files).toContainEqual({ path: 'spgr.nii.gz', size: 3000 });
    const notes = await rawRequest(server.url, '/data/notes.txt');
    expect(notes.status).toBe(403);
    expect(notes.json().error).toBe(
      'notes.txt: a symlink to a file outside the results folder that no sidecar beside it names as an input; not served',
    );
    expect(notes.body.toString()).not.toContain('private notes');
    // the image is an input, but of no sidecar in sub-02/
    expect((await rawRequest(server.url, '/data/sub-02/spgr.nii.gz')).status).toBe(403);
    expect(log).toContain(
      'mixseg view: 403 GET /data/notes.txt: notes.txt: a symlink to a file outside the results folder that no sidecar beside it names as an input; not served',
    );
  });

  it('follows a sidecar that changes', async () => {
    const sidecar = join(folder, 'sub-03_dseg.json');
    await writeFile(sidecar, JSON.stringify({ Sources: ['../sri24/spgr.nii.gz', '../sri24/spgr.nii.gz'] }));
    expect((await rawRequest(server.url, '/inputs/sub-03_dseg.json/1')).body.equals(image)).toBe(true);
    await writeFile(sidecar, JSON.stringify({ Inputs: [join(root, 'old', 'sub-03.nii')] }));
    expect((await rawRequest(server.url, '/inputs/sub-03_dseg.json/0')).body.equals(oldImage)).toBe(true);
    expect((await rawRequest(server.url, '/inputs/sub-03_dseg.json/1')).status).toBe(404);
  });
});
