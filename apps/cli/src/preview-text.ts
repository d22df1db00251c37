/**
 * Text in the preview's SVG, which sharp rasterises with librsvg and the system's fonts: DejaVu Sans
 * (Debian's `fonts-dejavu-core`, which every Debian with fontconfig has). librsvg cannot measure text
 * for us, so widths come from DejaVu Sans's advance widths (the larger of Book and Bold for each
 * printable ASCII character) and a generous width for anything else: an estimate never narrower than
 * the rendered text, so a box laid out with it never clips its text.
 */

/** The font of every text in the preview. */
export const FONT_FAMILY = 'DejaVu Sans, Verdana, sans-serif';

/**
 * Advance widths of DejaVu Sans (max of Book and Bold) for the characters 32..126, in 1/1000 em,
 * read from the fonts' hmtx tables.
 */
const ASCII_WIDTHS = [
  348, 456, 521, 838, 696, 1002, 872, 306, 457, 457, 523, 838, 380, 415, 380, 365, 696, 696, 696, 696, 696,
  696, 696, 696, 696, 696, 400, 400, 838, 838, 838, 580, 1000, 774, 762, 734, 830, 683, 683, 821, 837, 372,
  372, 775, 637, 995, 837, 850, 733, 850, 770, 720, 682, 812, 774, 1103, 771, 724, 725, 457, 365, 457, 838,
  500, 500, 675, 716, 593, 716, 678, 435, 716, 712, 343, 343, 665, 343, 1042, 712, 687, 716, 716, 493, 595,
  478, 712, 652, 924, 645, 652, 582, 712, 365, 712, 838,
];
/** Latin-1 letters are at most 1.085 em in DejaVu Sans Bold; anything else (a fallback font) 2 em. */
const LATIN1_WIDTH = 1100;
const OTHER_WIDTH = 2050;
/** Kept free beyond the estimate: rounding in the rasteriser. */
const SLACK = 1.02;

/** Width in pixels that `text` takes at most at `size` pixels (regular or bold DejaVu Sans). */
export function textWidth(text: string, size: number): number {
  let thousandths = 0;
  for (const character of text) {
    const code = character.codePointAt(0)!;
    thousandths +=
      code >= 32 && code < 127 ? ASCII_WIDTHS[code - 32]! : code < 256 ? LATIN1_WIDTH : OTHER_WIDTH;
  }
  return Math.ceil((thousandths / 1000) * size * SLACK);
}

/**
 * Whether a line may break after characters[i]: after a space or `_ / , ; :`, after a `.` not
 * followed by a digit (not inside 4.8), after a `-` that follows a character (sub-01, not -6).
 */
function breaksAfter(characters: readonly string[], i: number): boolean {
  const character = characters[i]!;
  if (/[\s_/,;:]/.test(character)) return true;
  if (character === '.') return !/\d/.test(characters[i + 1] ?? '');
  if (character === '-') return i > 0 && !/\s/.test(characters[i - 1]!);
  return false;
}

/**
 * `text` broken into lines no wider than `maxWidth` at `size`: at the last place where it may break
 * (a space, a separator of file names and BIDS entities), and inside a word only when no such place
 * fits.
 * Never drops a character; a line holds at least one character.
 */
export function wrapText(text: string, size: number, maxWidth: number): string[] {
  const lines: string[] = [];
  let rest = text;
  while (rest.length > 0) {
    if (textWidth(rest, size) <= maxWidth) {
      lines.push(rest);
      break;
    }
    const characters = [...rest];
    // the longest prefix that fits
    let fits = 1;
    while (fits < characters.length && textWidth(characters.slice(0, fits + 1).join(''), size) <= maxWidth)
      fits++;
    // the last break opportunity inside it
    let cut = fits;
    for (let i = fits; i > 0; i--) {
      if (breaksAfter(characters, i - 1)) {
        cut = i;
        break;
      }
    }
    lines.push(characters.slice(0, cut).join('').trimEnd());
    rest = characters.slice(cut).join('').trimStart();
  }
  return lines.length > 0 ? lines : [''];
}

/** Text for SVG and HTML: the five characters with a meaning in markup escaped. */
export function escapeMarkup(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** One line of text in the picture. */
export interface TextItem {
  text: string;
  /** Anchor point, in pixels of the whole picture; y is the baseline. */
  x: number;
  y: number;
  size: number;
  anchor?: 'start' | 'middle' | 'end';
  bold?: boolean;
  fill?: string;
  /** A dark outline so that the text reads over an image. */
  halo?: boolean;
}

/** The box a text item may cover (left, top, right, bottom), from the conservative width. */
export function textBox(item: TextItem): { left: number; top: number; right: number; bottom: number } {
  const width = textWidth(item.text, item.size);
  const left =
    item.anchor === 'middle' ? item.x - width / 2 : item.anchor === 'end' ? item.x - width : item.x;
  // DejaVu Sans: ascent 0.93 em, descent 0.24 em; a halo's stroke reaches 1.5 px further
  const halo = item.halo ? 2 : 0;
  return {
    left: left - halo,
    top: item.y - 0.93 * item.size - halo,
    right: left + width + halo,
    bottom: item.y + 0.24 * item.size + halo,
  };
}

/** The SVG element of a text item. */
export function textSvg(item: TextItem): string {
  const attributes = [
    `x="${item.x.toFixed(1)}"`,
    `y="${item.y.toFixed(1)}"`,
    `font-size="${item.size}"`,
    `font-family="${FONT_FAMILY}"`,
    `fill="${item.fill ?? '#000000'}"`,
  ];
  if (item.anchor && item.anchor !== 'start') attributes.push(`text-anchor="${item.anchor}"`);
  if (item.bold) attributes.push('font-weight="bold"');
  if (item.halo)
    attributes.push('stroke="#000000" stroke-width="3" stroke-linejoin="round" paint-order="stroke"');
  return `<text ${attributes.join(' ')}>${escapeMarkup(item.text)}</text>`;
}
