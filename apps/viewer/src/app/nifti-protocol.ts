/** Messages between the page and the NIfTI parse workers (nifti-worker.ts). */
import type { Volume } from '@mixseg/imaging';

export interface NiftiRequest {
  id: number;
  /** The file's name, for NiiVue and for error messages. */
  name: string;
  /** An absolute URL to fetch, or the file's bytes (transferred). */
  url?: string;
  bytes?: ArrayBuffer;
}

export type NiftiResponse =
  | {
      id: number;
      type: 'done';
      volume: Volume;
      /** The file uncompressed (or, rarely, as it came when only parseNifti could inflate it). */
      file: Uint8Array;
    }
  | { id: number; type: 'error'; message: string };
