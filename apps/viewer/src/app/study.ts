/**
 * Reviewing a results folder: its subjects, moving between them, and prefetching. Choosing a
 * subject shows a loading state at once (the previous subject leaves the screen, the review marks
 * are refused) until the new one is drawn; the next subject in the direction of travel is then
 * loaded in the background, so that stepping through a study waits only for drawing.
 */
import { byId, element } from './dom.ts';
import { findSubjects, parseSummary, type SubjectFiles } from './results-folder.ts';
import { fetchMarks, renderReview, saveMark, unsavedNote } from './review.ts';
import { addProbabilityLayer, clearSubject, setImage, setLabels, setSidecar, type Viewer } from './state.ts';
import {
  errorMessage,
  setPageState,
  setStatus,
  showError,
  showViewError,
  showViewMessage,
} from './status.ts';
import {
  type FolderListing,
  type LoadedSubject,
  loadSubject,
  type SubjectExtras,
  type SubjectLoad,
} from './subject-loader.ts';
import { showLayers } from './view.ts';

let listing: FolderListing | undefined;
/** Loads by subject: the subject shown and the one prefetched. */
const loads = new Map<string, SubjectLoad>();
/** Increases with every subject chosen: a load finishing for an earlier choice is not shown. */
let choice = 0;
/** The direction of the last step (+1 or -1): the side to prefetch. */
let direction = 1;

/**
 * Opens the results folder the server serves, if any (false without a server). Shows its first
 * subject (or `?subject=`), or says in the view why there is nothing to show.
 */
export async function openFolder(viewer: Viewer): Promise<boolean> {
  let response: Response;
  try {
    response = await fetch('api/folder');
  } catch {
    return false; // a static host: no folder to review
  }
  if (response.status === 404 || !(response.headers.get('content-type') ?? '').includes('json')) return false;
  const answer = (await response.json()) as FolderListing & { error?: string };
  if (!response.ok)
    throw new Error(`the server cannot list the results folder: ${answer.error ?? response.status}`);
  listing = answer;
  const { study } = viewer;
  const files = listing.files.map((entry) => entry.path);
  let summary: ReturnType<typeof parseSummary> | undefined;
  if (files.includes('summary.tsv')) {
    try {
      const text = await fetch('data/summary.tsv').then((reply) => {
        if (!reply.ok) throw new Error(`the server answered ${reply.status}`);
        return reply.text();
      });
      summary = parseSummary(text);
    } catch (error) {
      showError(
        new Error(`summary.tsv cannot be read (${errorMessage(error)}): subjects taken from the label maps`),
      );
    }
  }
  study.subjects = findSubjects(files, summary);
  study.marks = await fetchMarks();
  byId('subject-select', HTMLSelectElement).replaceChildren(
    ...study.subjects.map((subject, index) => element('option', { value: index }, subject.subject)),
  );
  byId('review-panel', HTMLElement).hidden = study.subjects.length === 0;
  if (study.subjects.length === 0) {
    const what =
      files.length === 0
        ? 'the folder is empty'
        : `its ${files.length} file${files.length === 1 ? '' : 's'} include no label map (*_dseg.nii.gz)${summary ? ' and summary.tsv lists no subject' : ''}`;
    const text = `${listing.name}: nothing to review: ${what}. Segment into it with mixseg, or open files on the left.`;
    setStatus(text, true);
    showViewMessage(text, 'info');
    setPageState('empty', 'true');
    return true;
  }
  setStatus(`${listing.name}: ${study.subjects.length} subject${study.subjects.length === 1 ? '' : 's'}`);
  const wanted = new URLSearchParams(location.search).get('subject');
  await openSubject(
    viewer,
    Math.max(
      0,
      study.subjects.findIndex((subject) => subject.subject === wanted),
    ),
  );
  return true;
}

/** Steps `delta` subjects (saving a changed note of the subject left first). */
export async function step(viewer: Viewer, delta: number): Promise<void> {
  const { study } = viewer;
  if (study.subjects.length === 0) return;
  const note = unsavedNote(study);
  if (note !== undefined) void saveMark(study, { subject: study.displayed, note }).catch(showError);
  direction = delta < 0 ? -1 : 1;
  const next = Math.min(study.subjects.length - 1, Math.max(0, study.index + delta));
  if (next !== study.index) await openSubject(viewer, next);
}

function nextFrame(): Promise<void> {
  return new Promise((resolve) => requestAnimationFrame(() => resolve()));
}

/** Shows subject `index`: a loading state at once, then its images, then its probability maps. */
export async function openSubject(viewer: Viewer, index: number): Promise<void> {
  const { study, state } = viewer;
  const subject = study.subjects[index];
  if (!subject || !listing) return;
  const current = ++choice;
  const chosenAt = performance.now();
  study.index = index;
  study.displayed = undefined;
  setPageState('loaded', '');
  byId('subject-select', HTMLSelectElement).value = String(index);
  byId('subject-title', HTMLSpanElement).textContent = subject.subject;
  const url = new URL(location.href);
  url.searchParams.set('subject', subject.subject);
  history.replaceState(null, '', url);
  renderReview(study);
  clearSubject(state);
  await showLayers(viewer);
  if (subject.dseg === '') {
    const text = `${subject.subject}: no label map in the folder (see summary.tsv's status)`;
    setStatus(text, true);
    showViewMessage(text, 'info');
    study.displayed = subject.subject; // nothing to draw, but a subject to mark
    renderReview(study);
    setPageState('loaded', subject.subject);
    return;
  }
  showViewMessage(`Loading ${subject.subject}…`, 'loading');
  setStatus(`Loading ${subject.subject}…`);
  let load = loads.get(subject.subject);
  if (load) load.promote();
  else {
    load = loadSubject(subject, listing, 'now');
    loads.set(subject.subject, load);
  }
  let loaded: LoadedSubject;
  try {
    loaded = await load.core;
  } catch (error) {
    loads.delete(subject.subject);
    if (current !== choice) return;
    showViewError(error, `${subject.subject} cannot be shown`);
    setPageState('failed', subject.subject);
    return;
  }
  if (current !== choice) return;
  // for people measuring (the speed test reports them): waiting for the files, then drawing
  const loadedAt = performance.now();
  performance.measure(`load ${subject.subject}`, { start: chosenAt, end: loadedAt });
  showLoaded(viewer, loaded);
  await showLayers(viewer);
  await nextFrame();
  if (current !== choice) return;
  performance.measure(`draw ${subject.subject}`, { start: loadedAt, end: performance.now() });
  study.displayed = subject.subject;
  renderReview(study);
  showViewMessage(undefined);
  const missing = loaded.image ? '' : ' (labels only: no image found for it)';
  if (loaded.problems.length > 0) setStatus(loaded.problems.join(' · '), true);
  else setStatus(`${subject.subject}: ${loaded.files.dseg}${missing}`);
  setPageState('loaded', subject.subject);
  let extras: SubjectExtras;
  try {
    extras = await load.extras;
  } catch (error) {
    if (current === choice && (error as Error).name !== 'AbortError') showError(error);
    return;
  }
  if (current !== choice) return;
  showExtras(viewer, extras);
  await showLayers(viewer);
  if (extras.problems.length > 0) setStatus([...loaded.problems, ...extras.problems].join(' · '), true);
  setPageState('complete', subject.subject);
  prefetch(viewer, index + direction);
}

function showLoaded(viewer: Viewer, loaded: LoadedSubject): void {
  const { state } = viewer;
  state.tableFromFile = loaded.labelTable;
  if (loaded.sidecar) setSidecar(state, loaded.sidecar);
  if (loaded.image) setImage(state, loaded.image, loaded.imageIsCorrected);
  setLabels(state, loaded.labels);
  state.correctionLoading = loaded.correctionFollows;
}

function showExtras(viewer: Viewer, extras: SubjectExtras): void {
  const { state } = viewer;
  for (const { abbreviation, layer } of extras.probabilities) addProbabilityLayer(state, layer, abbreviation);
  state.biasField = extras.biasField;
  state.restored = extras.restored;
  state.correctionLoading = false;
}

/** Loads subject `index` in the background, and lets go of every load but it and the one shown. */
function prefetch(viewer: Viewer, index: number): void {
  const { study } = viewer;
  const shown = study.subjects[study.index]?.subject;
  const next: SubjectFiles | undefined = study.subjects[index];
  const keep = new Set([shown, next?.dseg ? next.subject : undefined]);
  for (const [subject, load] of loads) {
    if (!keep.has(subject)) {
      load.cancel();
      loads.delete(subject);
    }
  }
  if (next?.dseg && listing && !loads.has(next.subject)) {
    loads.set(next.subject, loadSubject(next, listing, 'background'));
  }
}
