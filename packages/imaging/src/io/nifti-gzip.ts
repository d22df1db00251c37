/**
 * gzip data of a `.nii.gz`, inflated incrementally with fflate: the NIfTI header is checked as soon
 * as its bytes are out, output far beyond what the header needs is refused, and the gzip trailer
 * (CRC-32 and length) of every member is verified, so that a truncated or corrupt download is an
 * error, never silently wrong voxels.
 */
import { Gunzip } from 'fflate';
import { ImageFileError } from '../types.ts';
import { HEADER_PROBE_BYTES, readLayout } from './nifti-header.ts';

/** Compressed bytes handed to the inflater at a time. */
const GZIP_CHUNK_BYTES = 1 << 18;
/** Bytes a gzip stream may inflate to beyond what its NIfTI header needs (trailing data is ignored). */
const GZIP_TRAILING_LIMIT_BYTES = 1 << 20;

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Compressed bytes handed to the inflater at a time while looking for the header. */
const HEADER_CHUNK_BYTES = 1 << 10;

/**
 * The first bytes a gzip stream inflates to, up to a whole header of either version (fewer when the
 * stream ends first), inflating at most a few kilobytes at a time.
 */
export function inflateHeader(start: Uint8Array, path: string): Uint8Array {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const inflater = new Gunzip((chunk) => {
    chunks.push(chunk);
    total += chunk.length;
  });
  try {
    for (let offset = 0; total < HEADER_PROBE_BYTES && offset < start.length; offset += HEADER_CHUNK_BYTES) {
      inflater.push(start.subarray(offset, offset + HEADER_CHUNK_BYTES), false);
    }
  } catch (error) {
    throw new ImageFileError(path, `gzip data is corrupt (${(error as Error).message}) at its start`, {
      cause: error,
    });
  }
  return concatenate(chunks, Math.min(total, HEADER_PROBE_BYTES));
}

/**
 * Inflates a gzip file: with a native inflater when one is given and the header (inflated by the
 * portable inflater from the first chunk) checks out, else, or when the native one throws, with
 * the portable {@link gunzipNifti}.
 */
export function inflateNifti(
  compressed: Uint8Array,
  path: string,
  inflate: ((compressed: Uint8Array, maxOutputLength: number) => Uint8Array) | undefined,
): Uint8Array {
  if (!inflate) return gunzipNifti(compressed, path);
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    const probe = new Gunzip((chunk) => {
      chunks.push(chunk);
      total += chunk.length;
    });
    for (let offset = 0; total < HEADER_PROBE_BYTES && offset < compressed.length; offset += 1 << 12) {
      probe.push(compressed.subarray(offset, offset + (1 << 12)), false);
    }
  } catch {
    return gunzipNifti(compressed, path);
  }
  if (total < HEADER_PROBE_BYTES) return gunzipNifti(compressed, path);
  const limit =
    readLayout(concatenate(chunks, HEADER_PROBE_BYTES), path).requiredBytes + GZIP_TRAILING_LIMIT_BYTES;
  try {
    return inflate(compressed, limit);
  } catch {
    return gunzipNifti(compressed, path);
  }
}

/**
 * Inflates a gzip file (one or more members), checking the NIfTI header as soon as its bytes are
 * out, refusing output far beyond what the header needs, and verifying every member's CRC-32 and
 * length. fflate's one-shot gunzipSync is not used: it allocates whatever length the last four
 * bytes claim (up to 4 GiB for a truncated file) and does not check the CRC.
 */
function gunzipNifti(compressed: Uint8Array, path: string): Uint8Array {
  const chunks: Uint8Array[] = [];
  let total = 0;
  let limit = Number.POSITIVE_INFINITY;
  let headerChecked = false;
  const members = [{ start: 0, outputStart: 0 }];
  const inflater = new Gunzip((chunk) => {
    chunks.push(chunk);
    total += chunk.length;
    if (!headerChecked && total >= HEADER_PROBE_BYTES) {
      headerChecked = true;
      limit =
        readLayout(concatenate(chunks, HEADER_PROBE_BYTES), path).requiredBytes + GZIP_TRAILING_LIMIT_BYTES;
    }
    if (total > limit) {
      throw new ImageFileError(
        path,
        `gzip data inflates to more than ${limit} bytes, over 1 MiB beyond the ${limit - GZIP_TRAILING_LIMIT_BYTES} bytes its NIfTI header describes`,
      );
    }
  });
  inflater.onmember = (offset) => {
    members.push({ start: offset, outputStart: total });
  };
  try {
    // Every chunk is pushed as not final, then an empty final one, so that fflate looks for
    // further gzip members after each one ends.
    for (let offset = 0; offset < compressed.length; offset += GZIP_CHUNK_BYTES) {
      inflater.push(compressed.subarray(offset, offset + GZIP_CHUNK_BYTES), false);
    }
    inflater.push(new Uint8Array(0), true);
  } catch (error) {
    if (error instanceof ImageFileError) throw error;
    const message = (error as Error).message;
    if (message === 'unexpected EOF') {
      throw new ImageFileError(
        path,
        `gzip data ends early (truncated file?): the stream stops after ${total} inflated bytes`,
        { cause: error },
      );
    }
    throw new ImageFileError(path, `gzip data is corrupt (${message}) after ${total} inflated bytes`, {
      cause: error,
    });
  }
  const output = concatenate(chunks, total);
  for (let i = 0; i < members.length; i++) {
    const member = members[i]!;
    const next = members[i + 1];
    const end = next?.start ?? compressed.length;
    const outputEnd = next?.outputStart ?? total;
    if (end - member.start < 18) {
      throw new ImageFileError(
        path,
        `gzip data ends early (truncated file?): member ${i + 1} is ${end - member.start} bytes, less than a gzip header and trailer`,
      );
    }
    const trailer = new DataView(compressed.buffer, compressed.byteOffset + end - 8, 8);
    const expectedCrc = trailer.getUint32(0, true);
    const expectedLength = trailer.getUint32(4, true);
    const length = outputEnd - member.outputStart;
    const crc = crc32(output.subarray(member.outputStart, outputEnd));
    if (crc !== expectedCrc || length % 2 ** 32 !== expectedLength) {
      throw new ImageFileError(
        path,
        `gzip data is corrupt or truncated: member ${i + 1} inflates to ${length} bytes with CRC-32 ` +
          `${hex(crc)}, its trailer says ${expectedLength} bytes with CRC-32 ${hex(expectedCrc)}`,
      );
    }
  }
  return output;
}

function hex(value: number): string {
  return `0x${value.toString(16).padStart(8, '0')}`;
}

function concatenate(chunks: readonly Uint8Array[], length: number): Uint8Array {
  const output = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    if (offset >= length) break;
    const part = chunk.subarray(0, length - offset);
    output.set(part, offset);
    offset += part.length;
  }
  return output;
}

let crcTable: Uint32Array | undefined;

/** CRC-32 (IEEE 802.3, as gzip uses), slicing by four bytes. */
function crc32(bytes: Uint8Array): number {
  if (crcTable === undefined) {
    crcTable = new Uint32Array(1024);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
    for (let n = 0; n < 256; n++) {
      for (let t = 1; t < 4; t++) {
        const previous = crcTable[(t - 1) * 256 + n]!;
        crcTable[t * 256 + n] = (crcTable[previous & 0xff]! ^ (previous >>> 8)) >>> 0;
      }
    }
  }
  const table = crcTable;
  let crc = 0xffffffff;
  let i = 0;
  const end4 = bytes.length - (bytes.length % 4);
  for (; i < end4; i += 4) {
    crc ^= bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    crc =
      table[768 + (crc & 0xff)]! ^
      table[512 + ((crc >>> 8) & 0xff)]! ^
      table[256 + ((crc >>> 16) & 0xff)]! ^
      table[crc >>> 24]!;
  }
  for (; i < bytes.length; i++) crc = table[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
