/**
 * Keys and mouse: one table of keyboard shortcuts (with their actions) from which both the key
 * handler and the help overlay are made, so that the help cannot drift from what the keys do, and
 * the mouse gestures NiiVue offers.
 */
import { byId, element } from './dom.ts';

/** A keyboard shortcut. */
export interface Shortcut {
  /** `KeyboardEvent.key` values that trigger it. */
  keys: string[];
  /** What people see in the help, e.g. "j". */
  label: string;
  description: string;
  action: () => void;
  /** Only with a results folder open. Default false. */
  needsStudy?: boolean;
}

/** NiiVue's mouse gestures, as configured in main.ts. */
export const MOUSE_HELP: readonly [string, string][] = [
  ['Left click or drag', 'move the crosshair (the readout follows); in the 3-D render, rotate'],
  ['Right drag', 'window/level: up and down shift the window, left and right widen or narrow it'],
  ['Middle drag', 'pan the slices'],
  ['Scroll wheel', 'next or previous slice of the plane under the pointer'],
];

function isTyping(target: EventTarget | null): boolean {
  return (
    target instanceof HTMLTextAreaElement ||
    target instanceof HTMLSelectElement ||
    (target instanceof HTMLInputElement && !['checkbox', 'range', 'file', 'button'].includes(target.type))
  );
}

/** Runs shortcuts on key presses (not while typing, not with Ctrl, Alt or Meta). */
export function wireShortcuts(shortcuts: readonly Shortcut[], hasStudy: () => boolean): void {
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && !byId('help', HTMLDivElement).hidden) {
      showHelp(false);
      return;
    }
    if (isTyping(event.target) || event.ctrlKey || event.metaKey || event.altKey) return;
    const shortcut = shortcuts.find((entry) => entry.keys.includes(event.key));
    if (!shortcut || (shortcut.needsStudy && !hasStudy())) return;
    event.preventDefault();
    shortcut.action();
  });
}

/** Fills the help overlay from the shortcut table and the mouse gestures. */
export function renderHelp(shortcuts: readonly Shortcut[]): void {
  const rows = (entries: readonly [string, string][]) =>
    entries.map(([what, does]) => element('tr', {}, element('th', {}, what), element('td', {}, does)));
  byId('help-keys', HTMLTableElement).replaceChildren(
    ...rows(shortcuts.map((entry) => [entry.label, entry.description] as [string, string])),
  );
  byId('help-mouse', HTMLTableElement).replaceChildren(...rows(MOUSE_HELP));
}

/** Shows or hides the help overlay (toggles without `shown`). */
export function showHelp(shown?: boolean): void {
  const help = byId('help', HTMLDivElement);
  help.hidden = shown === undefined ? !help.hidden : !shown;
  if (!help.hidden) byId('help-close', HTMLButtonElement).focus();
}
