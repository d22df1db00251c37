/**
 * What the page says: the status line in the header, the message over the view (loading, an empty
 * folder, an error with its cause), and `data-*` attributes on <body> that tests and scripts wait
 * on (`data-ready`, `data-loaded`, `data-saved`, `data-refused`, `data-error`, `data-segment`).
 */
import { byId } from './dom.ts';

/** The kinds of message shown over the view. */
export type ViewMessageKind = 'loading' | 'info' | 'error';

/** Sets the header's status line. */
export function setStatus(text: string, isError = false): void {
  const line = byId('status', HTMLSpanElement);
  line.textContent = text;
  line.classList.toggle('error', isError);
  line.title = text;
}

/** Sets `data-<key>` on <body>. */
export function setPageState(key: string, value: string): void {
  document.body.dataset[key] = value;
}

/** Shows a message over the view, or hides it when `text` is undefined. */
export function showViewMessage(text: string | undefined, kind: ViewMessageKind = 'info'): void {
  const box = byId('view-message', HTMLDivElement);
  box.hidden = text === undefined;
  box.textContent = text ?? '';
  box.className = kind;
  box.setAttribute('role', kind === 'error' ? 'alert' : 'status');
}

/** An error's message followed by its causes ("a: b (c)"), for people. */
export function errorMessage(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause;
  const causeText = cause instanceof Error ? errorMessage(cause) : undefined;
  return causeText && !error.message.includes(causeText) ? `${error.message} (${causeText})` : error.message;
}

/** Reports an error in the status line and `data-error`. */
export function showError(error: unknown): void {
  const text = errorMessage(error);
  setStatus(text, true);
  setPageState('error', text);
}

/** Reports an error that leaves nothing to show: in the status line and over the view. */
export function showViewError(error: unknown, context?: string): void {
  const text = errorMessage(error);
  showError(error);
  showViewMessage(context ? `${context}: ${text}` : text, 'error');
}
