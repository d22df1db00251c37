/**
 * Artefacts added to a rendered phantom, for testing robust estimation: the image changes, the
 * ground truth does not.
 */
import type { ResolvedPhantomOptions } from './phantom-options.ts';

/** Adds the chosen artefact to the rendered image, in place (deterministic). */
export function addArtefact(options: ResolvedPhantomOptions, data: Float32Array, labels: Uint8Array): void {
  const [nx, ny, nz] = options.dims;
  const nxy = nx * ny;
  switch (options.artefact) {
    case 'none':
      return;
    case 'zeros':
      for (let v = 0; v < data.length; v++) {
        if (labels[v] === 1 && Math.floor(v / nxy) > 0.62 * nz) data[v] = 0;
      }
      return;
    case 'extreme-voxel': {
      const v = labels.findIndex((label, index) => label === 3 && index >= data.length / 2);
      if (v >= 0) data[v] = 32767;
      return;
    }
    case 'bright-cluster': {
      let brain = 0;
      for (const label of labels) if (label > 0) brain++;
      const [cx, cy, cz] = [nx / 2, ny * 0.35, nz / 2];
      const white: { v: number; d: number }[] = [];
      for (let v = 0; v < labels.length; v++) {
        if (labels[v] !== 3) continue;
        const x = v % nx;
        const y = Math.floor(v / nx) % ny;
        const z = Math.floor(v / nxy);
        white.push({ v, d: (x - cx) ** 2 + (y - cy) ** 2 + (z - cz) ** 2 + v * 1e-12 });
      }
      white.sort((a, b) => a.d - b.d);
      const n = Math.min(white.length, Math.round(0.03 * brain));
      for (let j = 0; j < n; j++) {
        const v = white[j]!.v;
        data[v] = options.integer ? Math.round(data[v]! * 1.6) : data[v]! * 1.6;
      }
      return;
    }
    case 'clipped-maximum': {
      const values = Float32Array.from(data.filter((_, v) => labels[v]! > 0)).sort();
      const clip = values[Math.floor(0.97 * (values.length - 1))]!;
      for (let v = 0; v < data.length; v++) if (data[v]! > clip) data[v] = clip;
      return;
    }
    default:
      throw new RangeError(`unknown artefact ${options.artefact satisfies never}`);
  }
}
