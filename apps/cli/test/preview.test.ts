import { generatePhantom, type Segmentation, segment, type Volume } from '@mixseg/imaging/node';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { classTable } from '../src/outputs.ts';
import { type PreviewPicture, previewPicture, renderPreview } from '../src/preview.ts';
import { formatTick, niceTicks } from '../src/preview-chart.ts';
import { anatomicalFrame } from '../src/preview-frame.ts';
import { FONT_FAMILY, textBox, textWidth, wrapText } from '../src/preview-text.ts';
import { intensityWindow } from '../src/preview-values.ts';

const classes = classTable(3);
const WORLD: Record<string, [number, 1 | -1]> = {
  R: [0, 1],
  L: [0, -1],
  A: [1, 1],
  P: [1, -1],
  S: [2, 1],
  I: [2, -1],
};

/**
 * The same image, labels and bias field stored with other axis codes (`LAS`, `PIR`...): voxel
 * order permuted and flipped, the affine changed so that every voxel keeps its world position.
 */
function storedAs(ras: Volume, result: Segmentation, codes: string): { image: Volume; result: Segmentation } {
  const axes = [...codes].map((code) => WORLD[code]!);
  const dims = axes.map(([w]) => ras.dims[w]) as [number, number, number];
  const spacing = axes.map(([w]) => ras.spacing[w]) as [number, number, number];
  const rasIndex = (index: number[]) => {
    const r = [0, 0, 0];
    axes.forEach(([w, sign], a) => {
      r[w] = sign > 0 ? index[a]! : ras.dims[w]! - 1 - index[a]!;
    });
    return r;
  };
  const n = dims[0] * dims[1] * dims[2];
  const source = new Int32Array(n);
  for (let k = 0, v = 0; k < dims[2]; k++)
    for (let j = 0; j < dims[1]; j++)
      for (let i = 0; i < dims[0]; i++, v++) {
        const [x, y, z] = rasIndex([i, j, k]);
        source[v] = x! + ras.dims[0] * (y! + ras.dims[1] * z!);
      }
  const permute = <T extends Float32Array | Uint8Array>(array: T): T => {
    const out = new (array.constructor as new (length: number) => T)(n);
    for (let v = 0; v < n; v++) out[v] = array[source[v]!]!;
    return out;
  };
  const origin = rasIndex([0, 0, 0]);
  const affine = [0, 1, 2].map((row) => [
    ...axes.map(([w, sign]) => ras.affine[row]![w]! * sign),
    ras.affine[row]![0]! * origin[0]! +
      ras.affine[row]![1]! * origin[1]! +
      ras.affine[row]![2]! * origin[2]! +
      ras.affine[row]![3]!,
  ]);
  affine.push([0, 0, 0, 1]);
  const image: Volume = {
    ...ras,
    data: permute(ras.data as Float32Array),
    dims,
    spacing,
    affine,
    geometry: {
      ...ras.geometry,
      qformCode: 0,
      sformCode: 2,
      pixdim: [1, ...spacing, 0, 0, 0, 0],
      srow: [affine[0]!, affine[1]!, affine[2]!],
    },
  };
  return {
    image,
    result: {
      ...result,
      labels: permute(result.labels),
      mask: permute(result.mask),
      biasFields: result.biasFields?.map((field) => permute(field)),
    },
  };
}

/** Decoded RGB pixels of a rendered picture. */
async function decode(picture: PreviewPicture): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(await renderPreview(picture))
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/**
 * A phantom stored RAS whose labels are all GM with a WM core, and a CSF-labelled marker outside the
 * brain on the patient's left (low x): the only CSF outline in the picture.
 */
let ras: { image: Volume; result: Segmentation };
const marker = { x: [1, 3], y: [13, 19], z: [9, 15] } as const;

beforeAll(() => {
  const phantom = generatePhantom({ dims: [32, 32, 24], spacing: [4, 4, 4], noiseLevel: 0.03, seed: 3 });
  const image = phantom.image;
  const fitted = segment([image], { classNames: classes.map((c) => c.abbreviation) });
  const [nx, ny] = image.dims;
  const labels = new Uint8Array(phantom.labels.length);
  for (let v = 0; v < labels.length; v++) {
    const x = v % nx;
    if (x <= 5) continue; // a clear slab on the left for the marker
    labels[v] = phantom.labels[v] === 3 ? 3 : phantom.labels[v]! > 0 ? 2 : 0;
  }
  for (let z = marker.z[0]; z <= marker.z[1]; z++)
    for (let y = marker.y[0]; y <= marker.y[1]; y++)
      for (let x = marker.x[0]; x <= marker.x[1]; x++) labels[x + nx * (y + ny * z)] = 1;
  expect(fitted.biasFields).toBeDefined();
  ras = { image, result: { ...fitted, labels } };
});

describe('preview orientation', () => {
  it('draws the same brain stored RAS, LAS and PIR as the same picture below the header', async () => {
    const pictures = ['RAS', 'LAS', 'PIR'].map((codes) => {
      const stored = codes === 'RAS' ? ras : storedAs(ras.image, ras.result, codes);
      expect(anatomicalFrame(stored.image).storedCodes).toBe(codes);
      return previewPicture(stored.image, stored.result, classes, { subject: 'sub-01' });
    });
    const [reference, ...others] = await Promise.all(pictures.map(decode));
    const headerBytes = pictures[0]!.regions.header.height * pictures[0]!.width * 3;
    for (const [i, other] of others.entries()) {
      expect(pictures[i + 1]!.regions.header.height).toBe(pictures[0]!.regions.header.height);
      expect([other.width, other.height]).toEqual([reference!.width, reference!.height]);
      expect(other.data.subarray(headerBytes).equals(reference!.data.subarray(headerBytes))).toBe(true);
    }
    expect(pictures.map((picture) => picture.texts[1]!.text.slice(0, 10))).toEqual([
      'stored RAS',
      'stored LAS',
      'stored PIR',
    ]);
  });

  it("shows a marker on the patient's left on the picture's left in axial and coronal slices (neurological)", () => {
    for (const codes of ['RAS', 'LAS', 'LPS', 'PIR']) {
      const stored = codes === 'RAS' ? ras : storedAs(ras.image, ras.result, codes);
      const picture = previewPicture(stored.image, stored.result, classes);
      const csf = [0x2a, 0, 0];
      const hex = classes[0]!.color;
      for (let c = 0; c < 3; c++) csf[c] = Number.parseInt(hex.slice(1 + 2 * c, 3 + 2 * c), 16);
      let seen = 0;
      for (const row of picture.montage.filter((r) => r.plane !== 'sagittal')) {
        for (const tile of row.tiles) {
          for (let y = 0; y < tile.height; y++) {
            for (let x = 0; x < tile.width; x++) {
              const p = ((tile.top + y) * picture.width + tile.left + x) * 3;
              if (
                picture.pixels[p] === csf[0] &&
                picture.pixels[p + 1] === csf[1] &&
                picture.pixels[p + 2] === csf[2]
              ) {
                expect(x, `${codes} ${row.plane}`).toBeLessThan(tile.width / 4);
                seen++;
              }
            }
          }
        }
      }
      expect(seen, codes).toBeGreaterThan(10);
    }
  });

  it('marks L on the left and R on the right of axial and coronal slices, A on the left of sagittal ones', () => {
    const picture = previewPicture(ras.image, ras.result, classes);
    expect(picture.montage.map((row) => row.plane)).toEqual(['axial', 'coronal', 'sagittal']);
    for (const row of picture.montage) {
      const tile = row.tiles[0]!;
      const inTile = picture.texts.filter(
        (t) =>
          t.x >= tile.left &&
          t.x <= tile.left + tile.width &&
          t.y >= tile.top &&
          t.y <= tile.top + tile.height,
      );
      const leftmost = inTile.reduce((a, b) => (b.x < a.x ? b : a));
      const rightmost = inTile.reduce((a, b) => (b.x > a.x ? b : a));
      expect([leftmost.text, rightmost.text]).toEqual(row.plane === 'sagittal' ? ['A', 'P'] : ['L', 'R']);
    }
    expect(picture.texts.some((t) => t.text.includes('neurological'))).toBe(true);
  });

  it('draws a volume without sform or qform without direction letters, saying the orientation is unknown', () => {
    const image: Volume = { ...ras.image, geometry: { ...ras.image.geometry, sformCode: 0, qformCode: 0 } };
    const picture = previewPicture(image, ras.result, classes);
    expect(picture.texts.some((t) => /orientation is unknown/.test(t.text))).toBe(true);
    expect(picture.texts.some((t) => t.text === 'L' || t.text === 'R')).toBe(false);
  });

  it('draws a 2-D PNG slice as stored in one tile', async () => {
    const phantom = generatePhantom({ dims: [48, 40, 1], spacing: [2, 2, 2], seed: 1 });
    const image: Volume = { ...phantom.image, source: { ...phantom.image.source, format: 'png' } };
    const result = segment([image], { classNames: classes.map((c) => c.abbreviation) });
    const picture = previewPicture(image, result, classes);
    expect(picture.montage.map((row) => row.plane)).toEqual(['axial']);
    expect(picture.montage[0]!.tiles).toHaveLength(1);
    expect(picture.montage[0]!.tiles[0]!.width).toBeGreaterThan(600);
    expect(picture.texts.some((t) => t.text === 'L')).toBe(false);
    const png = await decode(picture);
    expect(png.width).toBe(720);
  });
});

describe('preview contents', () => {
  it('has the subject, a legend with every class name, colour and volume, and the bias field', () => {
    const picture = previewPicture(ras.image, ras.result, classes, { subject: 'sub-07_T1w' });
    const texts = picture.texts.map((t) => t.text);
    expect(texts[0]).toBe('sub-07_T1w');
    for (const [k, c] of classes.entries()) {
      expect(texts).toContain(c.abbreviation);
      expect(texts).toContain(c.name);
      expect(texts).toContain(`${ras.result.statistics[k]!.volumeMl.toFixed(1)} mL`);
      expect(picture.svg).toContain(`fill="${c.color}"`);
    }
    expect(texts).toContain('Bias field (channel 1)');
    expect(picture.regions.bias).toBeDefined();
    expect(texts).toContain('intensity (bias-corrected)');
    expect(texts).toContain('iteration');
  });

  it('leaves the bias panel out when no field was estimated', () => {
    const picture = previewPicture(ras.image, { ...ras.result, biasFields: undefined }, classes);
    expect(picture.regions.bias).toBeUndefined();
    expect(picture.texts.map((t) => t.text)).toContain('intensity');
  });

  it('says in red when EM did not converge', () => {
    const spatial = { ...ras.result.spatial!, converged: false, stopReason: 'max-iterations' as const };
    const picture = previewPicture(ras.image, { ...ras.result, spatial }, classes);
    const status = picture.texts.find((t) => /NOT converged/.test(t.text));
    expect(status?.text).toMatch(/NOT converged \(max-iterations\)/);
    expect(status?.fill).toBe('#cc0000');
  });

  it('keeps every text inside the picture and nothing drawn in the right margin, even for a long name', async () => {
    const subject = `sub-${'verylongname'.repeat(12)}_ses-${'x'.repeat(90)}_acq-été日本_T1w`;
    const picture = previewPicture(ras.image, ras.result, classes, { subject });
    // the name wraps onto several lines and no character is lost
    const nameLines = picture.texts.filter((t) => t.size === 18).map((t) => t.text);
    expect(nameLines.length).toBeGreaterThan(2);
    expect(nameLines.join('')).toBe(subject);
    for (const item of picture.texts) {
      const box = textBox(item);
      expect(box.left, item.text).toBeGreaterThanOrEqual(0);
      expect(box.right, item.text).toBeLessThanOrEqual(picture.width - 4);
      expect(box.top, item.text).toBeGreaterThanOrEqual(0);
      expect(box.bottom, item.text).toBeLessThanOrEqual(picture.height);
    }
    const png = await decode(picture);
    const { montage } = picture.regions;
    for (let y = 0; y < png.height; y++) {
      if (y >= montage.top && y < montage.top + montage.height) continue; // the slices' black band
      for (let x = png.width - 6; x < png.width; x++) {
        const p = (y * png.width + x) * 3;
        expect([png.data[p], png.data[p + 1], png.data[p + 2]], `pixel ${x},${y}`).toEqual([255, 255, 255]);
      }
    }
  });
});

describe('preview text', () => {
  it('never estimates a text narrower than DejaVu Sans renders it', async () => {
    const samples: [string, number, boolean][] = [
      ['iiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiii', 11, true],
      ['WWWWWWWWWWWWWWWWWWWW', 12, true],
      ['mmmmmmmmmmmmmmmmmmmm', 18, true],
      ['Convergence: mean log-likelihood per voxel', 13, true],
      ['85 iterations, NOT converged (max-iterations)', 11, false],
      ['sub-01_ses-baseline_acq-mprage_run-1_T1w', 18, true],
      ['ÀÉÎÕÜàéîõü—', 12, false],
    ];
    for (const [text, size, bold] of samples) {
      const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="1400" height="40"><rect width="100%" height="100%" fill="#fff"/><text x="10" y="28" font-size="${size}"${bold ? ' font-weight="bold"' : ''} font-family="${FONT_FAMILY}">${text}</text></svg>`;
      const { data, info } = await sharp(Buffer.from(svg))
        .removeAlpha()
        .raw()
        .toBuffer({ resolveWithObject: true });
      let right = 0;
      for (let y = 0; y < info.height; y++)
        for (let x = 0; x < info.width; x++)
          if (data[(y * info.width + x) * 3]! < 250) right = Math.max(right, x + 1);
      expect(right - 10, text).toBeGreaterThan(0);
      expect(right - 10, text).toBeLessThanOrEqual(textWidth(text, size));
    }
  });

  it('wraps at separators without losing a character, each line within the width', () => {
    const text = 'sub-01_ses-02_acq-highresolutionmprageacquisitionwithaverylongname_T1w';
    const lines = wrapText(text, 14, 150);
    expect(lines.join('')).toBe(text);
    for (const line of lines) expect(textWidth(line, 14)).toBeLessThanOrEqual(150);
    expect(lines[0]).toBe('sub-01_ses-02_');
    expect(wrapText('short', 12, 500)).toEqual(['short']);
    // numbers stay whole: no break inside 4.8 or before the digits of -6
    const sentence = 'WM takes only 4.8% of the mask at x = -6 mm';
    for (let width = 40; width < 300; width += 7) {
      for (const line of wrapText(sentence, 11, width)) {
        expect(line).not.toMatch(/^(8%|6 mm|\.8)/);
        expect(line).not.toMatch(/(4\.|-)$/);
      }
    }
  });

  it('windows at the exact 1st and 99th percentiles of the labelled, finite voxels', () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    for (const n of [1, 2, 5, 101, 1000, 4097]) {
      const data = Float32Array.from({ length: n }, () => Math.round(random() * 50));
      const labels = Uint8Array.from({ length: n }, () => (random() < 0.7 ? 1 : 0));
      labels[0] = 1;
      data[1] = Number.NaN;
      const values = [...data].filter((x, v) => labels[v] && Number.isFinite(x)).sort((a, b) => a - b);
      if (values.length === 0) continue;
      const low = values[Math.floor(0.01 * (values.length - 1))]!;
      const high = values[Math.floor(0.99 * (values.length - 1))]!;
      expect(intensityWindow(data, labels), `n = ${n}`).toEqual(high > low ? [low, high] : [low, low + 1]);
    }
  });

  it('ticks axes at round numbers and formats them with the decimals the step needs', () => {
    expect(niceTicks(0, 10, 5)).toEqual({ ticks: [0, 2, 4, 6, 8, 10], step: 2 });
    expect(niceTicks(-6.43, -6.37, 4).ticks.map((t) => formatTick(t, 0.02))).toEqual([
      '-6.42',
      '-6.40',
      '-6.38',
    ]);
    expect(niceTicks(0.9, 0.99, 1).ticks.length).toBeGreaterThanOrEqual(2);
    expect(formatTick(60000, 20000)).toBe('60k');
    expect(formatTick(2500000, 500000)).toBe('2.5M');
    expect(formatTick(-0, 0.5)).toBe('0.0');
  });
});
