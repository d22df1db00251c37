/**
 * The JSON of the server's folder listing, `GET /api/folder`: the types the server writes and the
 * page reads (no code).
 */

/** The listing of the results folder. */
export interface FolderListing {
  /** The folder's base name. */
  name: string;
  /** Every file, depth first, each folder's entries in code-unit order of their names. */
  files: ListedFile[];
  /** True when the folder holds more than `maxFiles` files and only the first `maxFiles` are listed. */
  truncated: boolean;
  /** The most files one listing holds. */
  maxFiles: number;
  /** Entries left out because they cannot be read, lead outside the folder or lie too deep. */
  problems: ListingProblem[];
  /**
   * Per sidecar (`<stem>_dseg.json`, by its path in `files`), the inputs it names, in its order
   * (`Sources`, else `Inputs`, non-strings left out: the order of the page's `parseSidecar` inputs).
   * A sidecar that cannot be read is in `problems` instead.
   */
  inputs: Record<string, InputEntry[]>;
}

/** One listed file. */
export interface ListedFile {
  /** Relative to the folder, `/`-separated. */
  path: string;
  /** Bytes (of the target, for a symlink). */
  size: number;
}

/** An entry that could not be listed, and why (one line). */
export interface ListingProblem {
  /** Relative to the folder, `/`-separated (`.` for the folder itself). */
  path: string;
  reason: string;
}

/** One input image a sidecar names. */
export interface InputEntry {
  /** The entry as the sidecar gives it (`../../data/sub-01_T1w.nii.gz`, `bids:raw:sub-01/anat/...`). */
  source: string;
  /** The file's base name (`sub-01_T1w.nii.gz`): its format. */
  name: string;
  /**
   * Where the page fetches it, relative to the page: `inputs/<sidecar path>/<n>`. Absent when it
   * cannot be served (see `error`).
   */
  url?: string;
  /** The file's path in the results folder, when it lies inside. */
  path?: string;
  /** Bytes, when it can be served. */
  size?: number;
  /** Why it cannot be served: no such file, not an image, an unknown dataset link... */
  error?: string;
}
