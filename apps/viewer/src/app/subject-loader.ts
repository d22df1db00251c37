/**
 * Loads one subject of the results folder served by `mixseg view`, in two steps: first what is
 * drawn (sidecar, label table, image, label map, each volume parsed once in a worker and made into
 * NiiVue's image), then what follows (probability maps, and the bias field or corrected image the
 * histogram needs). The same load serves the subject shown and the prefetch of the next one.
 *
 * The image's URL comes from {@link subjectImageUrl}, the one place that knows where input images
 * are served.
 */

import type { FolderListing as ServerListing } from '@mixseg/server/shared';
import { modelIsBiasCorrected } from './intensity-units.ts';
import { labelImageOf, nvImageOf } from './layers.ts';
import { type LoadPriority, loadNifti, type NiftiSource, promote } from './nifti-client.ts';
import {
  type LabelEntry,
  parseLabelTable,
  parseSidecar,
  type Sidecar,
  type SubjectFiles,
  subjectFiles,
} from './results-folder.ts';
import { baseName } from './state.ts';
import type { Layer } from './types.ts';

/**
 * The server's listing of the results folder (`api/folder`, see @mixseg/server/shared); a page
 * opened without the server (files dropped on it) has no `inputs`.
 */
export type FolderListing = Pick<ServerListing, 'name' | 'files'> & Partial<Pick<ServerListing, 'inputs'>>;

/** Where an image is fetched from. */
export interface ImageLocation {
  url: string;
  /** The file name (shown, and given to NiiVue). */
  name: string;
  /** The image is the bias-corrected one (desc-restore). */
  isCorrected: boolean;
}

/** The URL under which the server serves a file of the folder (path relative to the folder). */
export function dataUrl(path: string): string {
  return `data/${path.split('/').map(encodeURIComponent).join('/')}`;
}

/**
 * Where a subject's image is fetched from, or undefined when there is none to show (labels only):
 * 1. the input itself inside the results folder (the file the sidecar's `Sources` name, matched by
 *    base name, or `S.nii.gz`; see results-folder.ts's subjectFiles), under `data/`;
 * 2. else the first input the sidecar names (its first channel) that the server serves read-only
 *    wherever it lies (`inputs/<sidecar path>/<n>`, from the listing), so that the overlay sits
 *    on its anatomy after `mixseg segment in/T1.nii.gz -o out` with no copying;
 * 3. else the bias-corrected `S_desc-restore.nii.gz` in the folder.
 * Why no input could be served is returned in `problem` (shown in the status line).
 */
export function subjectImageUrl(
  subject: SubjectFiles,
  listing: FolderListing,
): { location: ImageLocation | undefined; problem?: string } {
  if (subject.image && subject.image !== subject.restored) {
    return { location: { url: dataUrl(subject.image), name: baseName(subject.image), isCorrected: false } };
  }
  const inputs = subject.sidecar ? (listing.inputs?.[subject.sidecar] ?? []) : [];
  const served = inputs.find((entry) => entry.url !== undefined);
  if (served?.url) {
    return { location: { url: served.url, name: served.name, isCorrected: false } };
  }
  const problem = inputs[0]?.error ? `${inputs[0].source}: ${inputs[0].error}` : undefined;
  if (subject.image) {
    return {
      location: { url: dataUrl(subject.image), name: baseName(subject.image), isCorrected: true },
      ...(problem ? { problem } : {}),
    };
  }
  return { location: undefined, ...(problem ? { problem } : {}) };
}

/** What is drawn first. */
export interface LoadedSubject {
  /** The subject's files, found again once the sidecar names its sources. */
  files: SubjectFiles;
  sidecar: Sidecar | undefined;
  labelTable: LabelEntry[] | undefined;
  image: Layer | undefined;
  imageIsCorrected: boolean;
  labels: Layer;
  /** The model is in bias-corrected units and a field or corrected image will follow. */
  correctionFollows: boolean;
  /** What could not be loaded, one sentence each (the rest is still shown). */
  problems: string[];
}

/** What follows the drawn layers. */
export interface SubjectExtras {
  probabilities: { abbreviation: string; layer: Layer }[];
  biasField: Layer | undefined;
  restored: Layer | undefined;
  problems: string[];
}

/** A subject being loaded. */
export interface SubjectLoad {
  subject: string;
  core: Promise<LoadedSubject>;
  extras: Promise<SubjectExtras>;
  /** Stops the loads still queued (the subject is no longer wanted). */
  cancel: () => void;
  /** Moves queued background work ahead (the user now wants this subject). */
  promote: () => void;
}

/** Starts loading a subject; `background` for prefetching. */
export function loadSubject(
  subject: SubjectFiles,
  listing: FolderListing,
  priority: LoadPriority,
): SubjectLoad {
  const controller = new AbortController();
  const state = { priority };
  const load = (source: NiftiSource, name: string) =>
    loadNifti(source, name, { priority: state.priority, group: subject.subject, signal: controller.signal });
  const core = loadCore(subject, listing, load, () => state.priority);
  const extras = core.then((loaded) => loadExtras(loaded, load));
  // a failure is reported by whoever shows the subject; a prefetch nobody shows stays silent
  core.catch(() => undefined);
  extras.catch(() => undefined);
  return {
    subject: subject.subject,
    core,
    extras,
    cancel: () => controller.abort(),
    promote: () => {
      state.priority = 'now';
      promote(subject.subject);
    },
  };
}

type Loader = (source: NiftiSource, name: string) => Promise<{ volume: Layer['volume']; file: Uint8Array }>;

async function fetchText(url: string, name: string): Promise<string> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${name}: the server answered ${response.status} ${response.statusText}`);
  return response.text();
}

/** A layer; `forNiivue` keeps its uncompressed file for NiiVue (else NiiVue's copy is made on demand). */
async function loadLayer(load: Loader, url: string, name: string, forNiivue = true): Promise<Layer> {
  const { volume, file } = await load({ url }, name);
  return { name, volume, file: forNiivue ? file : undefined };
}

/** Waits until the browser is idle (for background work on the main thread). */
function idle(): Promise<void> {
  return new Promise((resolve) =>
    'requestIdleCallback' in window
      ? requestIdleCallback(() => resolve(), { timeout: 500 })
      : setTimeout(resolve, 0),
  );
}

async function loadCore(
  subject: SubjectFiles,
  listing: FolderListing,
  load: Loader,
  priority: () => LoadPriority,
): Promise<LoadedSubject> {
  const problems: string[] = [];
  const paths = listing.files.map((file) => file.path);
  const [sidecarText, tableText] = await Promise.all([
    subject.sidecar
      ? fetchText(dataUrl(subject.sidecar), subject.sidecar).catch((error: Error) => error)
      : undefined,
    subject.labelTable
      ? fetchText(dataUrl(subject.labelTable), subject.labelTable).catch((error: Error) => error)
      : undefined,
  ]);
  let sidecar: Sidecar | undefined;
  let files = subject;
  if (sidecarText instanceof Error) problems.push(sidecarText.message);
  else if (sidecarText !== undefined) {
    try {
      sidecar = parseSidecar(sidecarText, subject.sidecar);
      files = subjectFiles(paths, subject.dseg, subject.subject, sidecar.inputs);
    } catch (error) {
      problems.push(`${(error as Error).message}: shown without its model`);
    }
  }
  let labelTable: LabelEntry[] | undefined;
  if (tableText instanceof Error) problems.push(tableText.message);
  else if (tableText !== undefined) {
    try {
      labelTable = parseLabelTable(tableText, subject.labelTable);
    } catch (error) {
      problems.push(`${(error as Error).message}: default label colours`);
    }
  }
  const { location, problem: inputProblem } = subjectImageUrl(files, listing);
  if (inputProblem && !location) problems.push(`the image ${inputProblem}: labels shown without it`);
  const [image, labels] = await Promise.all([
    location
      ? loadLayer(load, location.url, location.name).catch((error: Error) => {
          if (error.name === 'AbortError') throw error;
          problems.push(`${error.message}: labels shown without the image`);
          return undefined;
        })
      : undefined,
    loadLayer(load, dataUrl(files.dseg), baseName(files.dseg)),
  ]);
  // NiiVue's images are made here, for a prefetched subject too, so that showing it is quick
  if (priority() === 'background') await idle();
  if (image) await nvImageOf(image);
  await labelImageOf(labels);
  const imageIsCorrected = location?.isCorrected ?? false;
  const corrected = modelIsBiasCorrected(sidecar?.options ?? {}) && !imageIsCorrected;
  return {
    files,
    sidecar,
    labelTable,
    image,
    imageIsCorrected,
    labels,
    correctionFollows: corrected && image !== undefined && (files.biasField ?? files.restored) !== undefined,
    problems,
  };
}

async function loadExtras(loaded: LoadedSubject, load: Loader): Promise<SubjectExtras> {
  const { files } = loaded;
  const problems: string[] = [];
  const optional = (path: string | undefined, what: string) =>
    path
      ? loadLayer(load, dataUrl(path), baseName(path), false).catch((error: Error) => {
          if (error.name === 'AbortError') throw error;
          problems.push(`${error.message}: ${what} not shown`);
          return undefined;
        })
      : Promise.resolve(undefined);
  // the field (smaller to read than a corrected image, and exactly what the CLI divides by)
  const fieldPath = loaded.correctionFollows ? files.biasField : undefined;
  const restoredPath = loaded.correctionFollows && !fieldPath ? files.restored : undefined;
  const [biasField, restored, ...maps] = await Promise.all([
    optional(fieldPath, 'the bias field (histogram in corrected units)'),
    optional(restoredPath, 'the corrected image (histogram in corrected units)'),
    ...files.probseg.map((entry) => optional(entry.path, `P(${entry.abbreviation})`)),
  ]);
  const probabilities = files.probseg.flatMap((entry, n) =>
    maps[n] ? [{ abbreviation: entry.abbreviation, layer: maps[n] }] : [],
  );
  return { probabilities, biasField, restored, problems };
}
