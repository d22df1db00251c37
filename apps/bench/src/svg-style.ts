/**
 * What every chart of the report shares: text escaping, the colour palette, the font, and number
 * formatting for SVG attributes.
 */

/** Tableau 10: distinguishable categorical colours that survive most colour-vision deficiencies. */
export const PALETTE: readonly string[] = [
  '#4e79a7',
  '#f28e2b',
  '#e15759',
  '#76b7b2',
  '#59a14f',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#bab0ac',
];

/** The charts' font stack and base size (px). */
export const FONT = 'font-family="Helvetica, Arial, sans-serif" font-size="12"';

/** Escapes text for SVG/XML content and attribute values. */
export function escapeXml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&apos;');
}

/** A coordinate for an SVG attribute: two decimals, no trailing zeros. */
export function coordinate(value: number): string {
  return String(Math.round(value * 100) / 100);
}

/** The colour of series `index`, cycling through {@link PALETTE}. */
export function paletteColour(index: number): string {
  return PALETTE[index % PALETTE.length]!;
}
