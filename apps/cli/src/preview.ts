/**
 * `<stem>_preview.png`: what a person glances at before opening the viewer. A montage of up to
 * nine axial slices through the labelled region with the labels blended over the image, and below
 * it two small plots: the intensity histogram of the first channel inside the labels with the
 * fitted Gaussians (weighted, and their sum), and the convergence curve (mean log-likelihood per
 * voxel at each EM iteration, both stages). The plots are SVG, rasterised by sharp.
 */
import { type Segmentation, type Volume, writeFileAtomic } from '@mixseg/imaging/node';
import sharp from 'sharp';
import type { ClassEntry } from './outputs.ts';

/** Largest number of slices in the montage. */
const MAX_SLICES = 9;
/** Width the montage is scaled to (nearest neighbour, so labels stay crisp). */
const MONTAGE_WIDTH = 720;
const PLOT_WIDTH = 360;
const PLOT_HEIGHT = 220;
const OPACITY = 0.4;

function hexToRgb(hex: string): [number, number, number] {
  const value = Number.parseInt(hex.slice(1), 16);
  return [(value >> 16) & 255, (value >> 8) & 255, value & 255];
}

/** 1st and 99th percentiles of the labelled voxels (a strided subsample of at most 200 000). */
function intensityWindow(data: ArrayLike<number>, labels: Uint8Array): [number, number] {
  let count = 0;
  for (let v = 0; v < labels.length; v++) if (labels[v]! > 0) count++;
  const stride = Math.max(1, Math.floor(count / 200_000));
  const values: number[] = [];
  for (let v = 0, seen = 0; v < labels.length; v++) {
    if (labels[v]! > 0 && seen++ % stride === 0 && Number.isFinite(data[v]!)) values.push(data[v]!);
  }
  if (values.length === 0) return [0, 1];
  values.sort((a, b) => a - b);
  const low = values[Math.floor(0.01 * (values.length - 1))]!;
  const high = values[Math.floor(0.99 * (values.length - 1))]!;
  return high > low ? [low, high] : [low, low + 1];
}

/** Evenly spaced z indices through the labelled slab. */
function montageSlices(labels: Uint8Array, dims: readonly [number, number, number]): number[] {
  const [nx, ny, nz] = dims;
  let first = nz;
  let last = -1;
  for (let z = 0; z < nz; z++) {
    const slice = labels.subarray(z * nx * ny, (z + 1) * nx * ny);
    if (slice.some((label) => label > 0)) {
      first = Math.min(first, z);
      last = z;
    }
  }
  if (last < 0) return [Math.floor(nz / 2)];
  const n = Math.min(MAX_SLICES, last - first + 1);
  return Array.from({ length: n }, (_, i) => Math.round(first + ((i + 1) * (last - first)) / (n + 1)));
}

/** RGB pixels of the montage (rows of slices, y up as in the radiological picture of a RAS volume). */
function montagePixels(
  image: Volume,
  labels: Uint8Array,
  classes: readonly ClassEntry[],
): { pixels: Uint8Array; width: number; height: number } {
  const [nx, ny] = image.dims;
  const slices = montageSlices(labels, image.dims);
  const columns = Math.ceil(Math.sqrt(slices.length));
  const rows = Math.ceil(slices.length / columns);
  const width = columns * nx;
  const height = rows * ny;
  const pixels = new Uint8Array(width * height * 3);
  const [low, high] = intensityWindow(image.data, labels);
  const colours = classes.map((c) => hexToRgb(c.color));
  slices.forEach((z, tile) => {
    const left = (tile % columns) * nx;
    const top = Math.floor(tile / columns) * ny;
    for (let y = 0; y < ny; y++) {
      for (let x = 0; x < nx; x++) {
        const voxel = x + nx * (y + ny * z);
        const value = image.data[voxel]!;
        const grey = value >= high ? 255 : value > low ? ((value - low) * 255) / (high - low) : 0;
        const colour = colours[labels[voxel]! - 1];
        const pixel = ((top + ny - 1 - y) * width + left + x) * 3;
        for (let c = 0; c < 3; c++) {
          pixels[pixel + c] = Math.round(colour ? (1 - OPACITY) * grey + OPACITY * colour[c]! : grey);
        }
      }
    }
  });
  return { pixels, width, height };
}

const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;');

function polyline(points: [number, number][], colour: string, extra = ''): string {
  const d = points.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(' ');
  return `<polyline points="${d}" fill="none" stroke="${colour}" stroke-width="1.5" ${extra}/>`;
}

/** The histogram of channel 1 inside the labels, with the fitted Gaussians. */
function histogramSvg(image: Volume, result: Segmentation, classes: readonly ClassEntry[]): string {
  const margin = { left: 10, right: 10, top: 24, bottom: 22 };
  const w = PLOT_WIDTH - margin.left - margin.right;
  const h = PLOT_HEIGHT - margin.top - margin.bottom;
  // the model is fitted to the bias-corrected intensities: histogram those, so the curves match
  const field = result.biasFields?.[0];
  let values = image.data;
  if (field) {
    values = new Float32Array(image.data.length);
    for (let v = 0; v < values.length; v++)
      values[v] = field[v]! > 0 ? image.data[v]! / field[v]! : image.data[v]!;
  }
  const [low, high] = intensityWindow(values, result.labels);
  const span = (high - low) * 1.2;
  const from = low - 0.1 * (high - low);
  const nBins = 80;
  const counts = new Float64Array(nBins);
  let total = 0;
  for (let v = 0; v < result.labels.length; v++) {
    if (result.labels[v] === 0) continue;
    const bin = Math.floor(((values[v]! - from) / span) * nBins);
    if (bin >= 0 && bin < nBins) counts[bin]!++;
    total++;
  }
  const binWidth = span / nBins;
  // Gaussians as densities times the voxel count times the bin width: the same scale as the bars.
  // They are drawn only when the model is in the image's units (no intensity preparation).
  const model = result.model;
  const showModel = result.options.preparation === 'none';
  const curves = showModel
    ? model.means.map((mean, k) => {
        const sd = Math.sqrt(model.covariances[k]![0]![0]!);
        return Array.from({ length: 161 }, (_, i) => {
          const x = from + (i / 160) * span;
          const z = (x - mean[0]!) / sd;
          return [
            x,
            (model.weights[k]! * total * binWidth * Math.exp(-0.5 * z * z)) / (sd * Math.sqrt(2 * Math.PI)),
          ];
        });
      })
    : [];
  const peak = Math.max(...counts, ...curves.flatMap((curve) => curve.map(([, y]) => y!)), 1);
  const px = (x: number) => margin.left + ((x - from) / span) * w;
  const py = (y: number) => margin.top + h - (y / peak) * h;
  const bars = [...counts]
    .map((count, bin) => {
      const x = margin.left + (bin / nBins) * w;
      const y = py(count);
      return `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${(w / nBins).toFixed(2)}" height="${(margin.top + h - y).toFixed(1)}" fill="#bbbbbb"/>`;
    })
    .join('');
  const lines = curves.map((curve, k) =>
    polyline(
      curve.map(([x, y]) => [px(x!), py(y!)]),
      classes[k]!.color,
    ),
  );
  if (curves.length > 0) {
    const sum = curves[0]!.map(
      ([x], i) => [px(x!), py(curves.reduce((s, curve) => s + curve[i]![1]!, 0))] as [number, number],
    );
    lines.push(polyline(sum, '#000000', 'stroke-dasharray="4 3"'));
  }
  const what = field ? 'bias-corrected histogram' : 'intensity histogram';
  const title = showModel ? `${what} and fitted Gaussians` : what;
  return [
    `<text x="${margin.left}" y="16" font-size="13" font-family="sans-serif">${escapeXml(title)}</text>`,
    bars,
    ...lines,
    `<text x="${margin.left}" y="${PLOT_HEIGHT - 6}" font-size="11" font-family="sans-serif">${low.toPrecision(4)}</text>`,
    `<text x="${margin.left + w}" y="${PLOT_HEIGHT - 6}" font-size="11" font-family="sans-serif" text-anchor="end">${high.toPrecision(4)}</text>`,
  ].join('');
}

/**
 * Mean log-likelihood per voxel at every iteration: the mixture stage, then the spatial stage, each
 * on its own vertical scale (the prior changes the likelihood's level, which would flatten the
 * first stage on a shared axis).
 */
function convergenceSvg(result: Segmentation): string {
  const margin = { left: 10, right: 10, top: 24, bottom: 22 };
  const w = PLOT_WIDTH - margin.left - margin.right;
  const h = PLOT_HEIGHT - margin.top - margin.bottom;
  const stages = [
    { name: 'mixture', trace: result.mixture.logLikelihoodTrace, colour: '#4477aa' },
    { name: 'spatial prior', trace: result.spatial?.logLikelihoodTrace ?? [], colour: '#ee6677' },
  ].filter((stage) => stage.trace.some(Number.isFinite));
  const final = result.spatial ?? result.mixture;
  const iterations = result.mixture.nIter + (result.spatial?.nIter ?? 0);
  const status = `${iterations} iterations, ${final.converged ? 'converged' : `NOT converged (${final.stopReason})`}`;
  const parts = [
    `<text x="${margin.left}" y="16" font-size="13" font-family="sans-serif">log-likelihood: ${escapeXml(status)}</text>`,
  ];
  const total = stages.reduce((sum, stage) => sum + stage.trace.length, 0);
  let offset = 0;
  for (const stage of stages) {
    const values = stage.trace.filter(Number.isFinite);
    const lowest = Math.min(...values);
    const highest = Math.max(...values);
    const range = highest > lowest ? highest - lowest : 1;
    const left = margin.left + (offset / total) * w;
    const width = (stage.trace.length / total) * w;
    const px = (i: number) => left + (stage.trace.length > 1 ? (i / (stage.trace.length - 1)) * width : 0);
    const py = (y: number) => margin.top + h - ((y - lowest) / range) * h;
    parts.push(
      polyline(
        stage.trace.map((y, i) => [px(i), py(y)]),
        stage.colour,
      ),
      `<text x="${left + 2}" y="${PLOT_HEIGHT - 6}" font-size="11" font-family="sans-serif" fill="${stage.colour}">${stage.name} ${lowest.toPrecision(4)}..${highest.toPrecision(4)}</text>`,
    );
    offset += stage.trace.length;
  }
  return parts.join('');
}

/** Writes the preview PNG (atomically). */
export async function writePreview(
  path: string,
  image: Volume,
  result: Segmentation,
  classes: readonly ClassEntry[],
): Promise<void> {
  const montage = montagePixels(image, result.labels, classes);
  const montageHeight = Math.max(1, Math.round((montage.height * MONTAGE_WIDTH) / montage.width));
  const montagePng = await sharp(montage.pixels, {
    raw: { width: montage.width, height: montage.height, channels: 3 },
  })
    .resize(MONTAGE_WIDTH, montageHeight, { kernel: 'nearest', fit: 'fill' })
    .png()
    .toBuffer();
  const width = Math.max(MONTAGE_WIDTH, 2 * PLOT_WIDTH);
  const svg = (body: string) =>
    Buffer.from(
      `<svg xmlns="http://www.w3.org/2000/svg" width="${PLOT_WIDTH}" height="${PLOT_HEIGHT}"><rect width="100%" height="100%" fill="#ffffff"/>${body}</svg>`,
    );
  const bytes = await sharp({
    create: { width, height: montageHeight + PLOT_HEIGHT, channels: 3, background: '#ffffff' },
  })
    .composite([
      { input: montagePng, left: 0, top: 0 },
      { input: svg(histogramSvg(image, result, classes)), left: 0, top: montageHeight },
      { input: svg(convergenceSvg(result)), left: PLOT_WIDTH, top: montageHeight },
    ])
    .png({ compressionLevel: 9 })
    .toBuffer();
  await writeFileAtomic(path, bytes);
}
