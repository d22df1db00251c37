/** Any supported image file as volumes, by its extension: NIfTI-1/2 (gzipped or not), PNG, JPEG. */
import { ImageFileError, readImage, readNifti, type Volume } from '@mixseg/imaging/node';
import { imageExtension } from './inputs.ts';

/**
 * Reads one image file: a NIfTI file (its first volume, or `volume` of a 4-D file) or a PNG/JPEG
 * (one slice, luminance of a colour image).
 *
 * @throws {ImageFileError} naming the file: missing, unreadable, corrupt, or not an image.
 */
export async function readVolumeFile(path: string, volume?: number): Promise<Volume> {
  const extension = imageExtension(path);
  if (extension === '.nii' || extension === '.nii.gz') {
    return readNifti(path, volume === undefined ? {} : { volume });
  }
  if (extension === '.png' || extension === '.jpg' || extension === '.jpeg') return readImage(path);
  throw new ImageFileError(path, 'not an image mixseg reads: expected .nii, .nii.gz, .png, .jpg or .jpeg');
}
