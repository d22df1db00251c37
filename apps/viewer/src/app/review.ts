/**
 * The study review: pass/fail marks and notes, saved in the folder's review.tsv through the
 * server. A mark applies to the subject drawn on screen, never to one still loading: while the
 * page switches subjects the buttons are disabled and the keys refused, saying why.
 */
import type { ReviewMark, ReviewStatus } from '@mixseg/server/shared';
import { byId } from './dom.ts';
import type { StudyState } from './state.ts';
import { setPageState, setStatus } from './status.ts';

/** Reads the marks saved for the folder (none when the server has no review file). */
export async function fetchMarks(): Promise<Map<string, ReviewMark>> {
  try {
    const marks = (await (await fetch('api/review')).json()).marks as ReviewMark[];
    return new Map(marks.map((mark) => [mark.subject, mark]));
  } catch {
    return new Map();
  }
}

/** Shows the chosen subject's mark, the study's progress, and whether marking is possible now. */
export function renderReview(study: StudyState): void {
  const chosen = study.subjects[study.index];
  const displayed = study.displayed !== undefined && study.displayed === chosen?.subject;
  const mark = displayed ? study.marks.get(study.displayed!) : undefined;
  const pass = byId('mark-pass', HTMLButtonElement);
  const fail = byId('mark-fail', HTMLButtonElement);
  const note = byId('review-note', HTMLTextAreaElement);
  pass.classList.toggle('active', mark?.status === 'pass');
  fail.classList.toggle('active', mark?.status === 'fail');
  for (const control of [pass, fail, note]) control.disabled = !displayed;
  if (document.activeElement !== note) note.value = mark?.note ?? '';
  byId('review-state', HTMLSpanElement).textContent = !displayed
    ? chosen
      ? `loading ${chosen.subject}…`
      : ''
    : mark?.status
      ? `${mark.status === 'pass' ? 'passed' : 'failed'} ${mark.time ? new Date(mark.time).toLocaleString() : ''}`
      : 'not reviewed';
  const values = [...study.marks.values()].filter((entry) =>
    study.subjects.some((subject) => subject.subject === entry.subject),
  );
  const passed = values.filter((entry) => entry.status === 'pass').length;
  const failed = values.filter((entry) => entry.status === 'fail').length;
  byId('review-progress', HTMLParagraphElement).textContent =
    `Subject ${study.index + 1} of ${study.subjects.length} · reviewed ${passed + failed} (${passed} pass, ${failed} fail)`;
  const select = byId('subject-select', HTMLSelectElement);
  study.subjects.forEach((entry, n) => {
    const option = select.options[n];
    const status = study.marks.get(entry.subject)?.status;
    if (option)
      option.textContent = `${status === 'pass' ? '✓ ' : status === 'fail' ? '✗ ' : ''}${entry.subject}`;
  });
}

/** A change to one subject's mark. */
export interface MarkChange {
  /** Default: the subject drawn. */
  subject?: string | undefined;
  /** Default: the subject's current status. */
  status?: ReviewStatus;
  /** Default: the note box's text. */
  note?: string;
}

/**
 * Saves a mark for the subject drawn (or `change.subject`). Refused, saying so in the status line
 * and `data-refused`, while no subject is drawn (the next one is still loading).
 */
export async function saveMark(study: StudyState, change: MarkChange = {}): Promise<void> {
  const subject = change.subject ?? study.displayed;
  if (subject === undefined) {
    const loading = study.subjects[study.index]?.subject;
    setStatus(
      loading
        ? `Not marked: ${loading} is still loading. Marks apply to the subject on screen.`
        : 'Not marked: no subject of the folder is on screen.',
      true,
    );
    setPageState('refused', `${loading ?? ''}:${change.status ?? ''}`);
    return;
  }
  const previous = study.marks.get(subject);
  const body = {
    subject,
    status: change.status ?? previous?.status ?? '',
    note: change.note ?? byId('review-note', HTMLTextAreaElement).value,
  };
  const response = await fetch('api/review', {
    method: 'PUT',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  const answer = await response.json();
  if (!response.ok) throw new Error(`saving the review mark failed: ${answer.error ?? response.status}`);
  study.marks = new Map((answer.marks as ReviewMark[]).map((mark) => [mark.subject, mark]));
  renderReview(study);
  setStatus(`Saved ${subject}: ${body.status || 'no decision'}${body.note ? ' with a note' : ''}`);
  setPageState('saved', `${subject}:${body.status}`);
}

/** The note box's text when it differs from what is saved for the subject drawn, else undefined. */
export function unsavedNote(study: StudyState): string | undefined {
  const subject = study.displayed;
  if (subject === undefined) return undefined;
  const text = byId('review-note', HTMLTextAreaElement).value;
  return text !== (study.marks.get(subject)?.note ?? '') ? text : undefined;
}
