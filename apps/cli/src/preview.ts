/**
 * `<stem>_preview.png`: the quality-control picture of one subject, 720 pixels wide. From the top:
 * the subject's name and how the image is stored and drawn; rows of axial, coronal and sagittal
 * slices through the labelled region in the anatomical frame, neurological convention (the
 * patient's left on the picture's left), with direction letters and each class drawn as its outline
 * over the image; the legend (class colours, names, volumes in mL, warnings) beside the bias
 * field's central slices when one was estimated; the intensity histogram with the fitted model and
 * the convergence curve, both with axes. Images are painted as RGB pixels, text and plots are one
 * SVG over them (DejaVu Sans), rasterised by sharp; every text is laid out with a width never
 * narrower than the rendered one, so none is cut off.
 */
import { basename } from 'node:path';
import { type Segmentation, type Volume, writeFileAtomic } from '@mixseg/imaging/node';
import sharp from 'sharp';
import { stemOf } from './inputs.ts';
import type { ClassEntry } from './outputs.ts';
import { convergenceChart, type Drawing, drawingSvg, histogramChart, type Rect } from './preview-chart.ts';
import { type AnatomicalFrame, anatomicalFrame, worldPosition } from './preview-frame.ts';
import { biasPanel, legend } from './preview-legend.ts';
import {
  type Canvas,
  labelledBox,
  type MontageRow,
  montageLayout,
  normalAxis,
  paintTile,
  tileLetters,
} from './preview-montage.ts';
import { type TextItem, wrapText } from './preview-text.ts';
import { intensityWindow } from './preview-values.ts';

/** Width of the picture in pixels. */
export const PREVIEW_WIDTH = 720;
const PADDING = 12;
const CHART_HEIGHT = 280;
/** The convention the slices are drawn in (FSLeyes' and NiiVue's default). */
export const CONVENTION = 'neurological';

export interface PreviewOptions {
  /** Printed at the top; default: the image file's name without its extension. */
  subject?: string;
}

/** The picture before rasterising: its pixels, the SVG drawn over them and where everything is. */
export interface PreviewPicture {
  width: number;
  height: number;
  /** RGB, 3 bytes per pixel. */
  pixels: Uint8Array;
  /** The whole overlay (text, plots, swatches), same size as the picture. */
  svg: string;
  /** Every text in the overlay. */
  texts: TextItem[];
  montage: MontageRow[];
  regions: { header: Rect; montage: Rect; legend: Rect; bias: Rect | undefined; charts: Rect };
}

function hexToRgb(hex: string): [number, number, number] {
  const value = Number.parseInt(hex.slice(1), 16);
  return [(value >> 16) & 255, (value >> 8) & 255, value & 255];
}

const round = (x: number) => Math.round(x * 100) / 100;

/** How the image is stored and drawn, for the header. */
function orientationNote(image: Volume, frame: AnatomicalFrame): string {
  const [nx, ny, nz] = image.dims;
  const size = `${nx} x ${ny} x ${nz} voxels of ${image.spacing.map(round).join(' x ')} mm`;
  switch (frame.source) {
    case 'affine': {
      const transform = image.geometry.sformCode > 0 ? 'sform' : 'qform';
      return `stored ${frame.storedCodes} (${transform}), ${size}; drawn ${CONVENTION}: the patient's left on the picture's left`;
    }
    case 'unknown':
      return `${size}; no sform or qform, so the orientation is unknown: drawn as if stored RAS, without direction letters`;
    case 'raster':
      return `a 2-D ${image.source.format.toUpperCase()} image, ${size}: drawn as stored (no anatomical directions)`;
    default: {
      const never: never = frame.source;
      throw new TypeError(`unknown orientation source ${String(never)}`);
    }
  }
}

/** The caption above a row of slices: the plane and where its slices are. */
function rowCaption(row: MontageRow, image: Volume, frame: AnatomicalFrame): string {
  const normal = normalAxis(row.plane);
  if (frame.source === 'raster') return 'the image';
  if (frame.source === 'unknown') {
    const axis = 'ijk'[frame.axes[normal]!.stored]!;
    return `${row.plane} (assumed) slices at ${axis} = ${row.tiles.map((tile) => tile.slice).join(', ')}`;
  }
  const crop = row.tiles[0]!.crop;
  const positions = row.tiles.map((tile) => {
    const centre = [0, 1, 2].map((w) => Math.round((crop.lo[w]! + crop.hi[w]!) / 2)) as [
      number,
      number,
      number,
    ];
    centre[normal] = tile.slice;
    return Math.round(worldPosition(image, frame, centre)[normal]!);
  });
  return `${row.plane} slices at ${'xyz'[normal]} = ${positions.join(', ')} mm`;
}

/**
 * Lays out and paints the preview of one subject.
 * @param image the first channel (the grey image under the outlines and the histogram's intensities)
 * @param result its segmentation: labels, model, traces, statistics, bias fields
 */
export function previewPicture(
  image: Volume,
  result: Segmentation,
  classes: readonly ClassEntry[],
  options: PreviewOptions = {},
): PreviewPicture {
  const width = PREVIEW_WIDTH;
  const inner = width - 2 * PADDING;
  const texts: TextItem[] = [];
  const svg: string[] = [];
  const add = (drawing: Drawing) => {
    svg.push(...drawing.svg);
    texts.push(...drawing.texts);
  };
  const subject =
    options.subject ?? (image.source.path === '<memory>' ? 'image' : stemOf(basename(image.source.path)));
  const frame = anatomicalFrame(image);

  // header: the name (wrapped, never cut), then how the image is stored and drawn
  let y = PADDING;
  for (const line of wrapText(subject, 18, inner)) {
    y += 20;
    texts.push({ text: line, x: PADDING, y, size: 18, bold: true });
  }
  y += 2;
  for (const line of wrapText(orientationNote(image, frame), 11, inner)) {
    y += 14;
    texts.push({ text: line, x: PADDING, y, size: 11, fill: '#333333' });
  }
  y += 8;
  const header: Rect = { left: 0, top: 0, width, height: y };

  // the slices
  const labelled = labelledBox(result.labels, frame, image.dims[0], image.dims[1]);
  const montage = montageLayout(frame, labelled, width, y);
  for (const row of montage.rows) {
    // at most about 60 characters: one line
    texts.push({
      text: rowCaption(row, image, frame),
      x: PADDING,
      y: row.captionTop + 13,
      size: 11,
      bold: true,
    });
    if (frame.source === 'affine') for (const tile of row.tiles) texts.push(...tileLetters(tile));
  }
  const montageRect: Rect = { left: 0, top: y, width, height: montage.height };
  y += montage.height + 10;

  // legend, and the bias field beside it
  const field = result.biasFields?.[0];
  const biasWidth = field ? 250 : 0;
  const legendRect: Rect = { left: PADDING, top: y, width: inner - (field ? biasWidth + 16 : 0), height: 0 };
  const classLegend = legend(legendRect, result, classes);
  add(classLegend);
  legendRect.height = classLegend.height;
  let biasRect: Rect | undefined;
  let paintBias: ((canvas: Canvas) => void) | undefined;
  if (field) {
    biasRect = { left: width - PADDING - biasWidth, top: y, width: biasWidth, height: 0 };
    const panel = biasPanel(biasRect, field, result.labels, frame, labelled);
    add(panel);
    biasRect.height = panel.height;
    paintBias = panel.paint;
  }
  y += Math.max(legendRect.height, biasRect?.height ?? 0) + 6;

  // the plots
  const charts: Rect = { left: PADDING, top: y, width: inner, height: CHART_HEIGHT };
  const half = Math.floor((inner - 24) / 2);
  const colours = classes.map((c) => c.color);
  add(histogramChart({ left: PADDING, top: y, width: half, height: CHART_HEIGHT }, image, result, colours));
  add(convergenceChart({ left: width - PADDING - half, top: y, width: half, height: CHART_HEIGHT }, result));
  y += CHART_HEIGHT + PADDING;

  const height = y;
  const canvas: Canvas = { pixels: new Uint8Array(width * height * 3).fill(255), width, height };
  const window = intensityWindow(image.data, result.labels);
  const rgb = classes.map((c) => hexToRgb(c.color));
  for (const row of montage.rows) {
    // black behind the tiles
    canvas.pixels.fill(0, row.tilesTop * width * 3, (row.captionTop + row.height) * width * 3);
    for (const tile of row.tiles) paintTile(canvas, tile, frame, image.data, result.labels, window, rgb);
  }
  paintBias?.(canvas);
  const overlay = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">`,
    ...svg,
    drawingSvg({ svg: [], texts }),
    '</svg>',
  ].join('');
  return {
    width,
    height,
    pixels: canvas.pixels,
    svg: overlay,
    texts,
    montage: montage.rows,
    regions: { header, montage: montageRect, legend: legendRect, bias: biasRect, charts },
  };
}

/** The picture as PNG bytes. */
export async function renderPreview(picture: PreviewPicture): Promise<Buffer> {
  return sharp(picture.pixels, { raw: { width: picture.width, height: picture.height, channels: 3 } })
    .composite([{ input: Buffer.from(picture.svg), left: 0, top: 0 }])
    .png({ compressionLevel: 6 })
    .toBuffer();
}

/**
 * Writes the preview PNG of one subject (atomically).
 * @param image the first channel; `result` its segmentation; `classes` the class table (names, colours)
 */
export async function writePreview(
  path: string,
  image: Volume,
  result: Segmentation,
  classes: readonly ClassEntry[],
  options: PreviewOptions = {},
): Promise<void> {
  await writeFileAtomic(path, await renderPreview(previewPicture(image, result, classes, options)));
}
