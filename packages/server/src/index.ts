/**
 * @mixseg/server, Node only: the local server behind `mixseg view` and the viewer's dev server. It
 * serves a built viewer page, one results folder, the input images its sidecars name, and the
 * study review (review.tsv). The page's browser-safe part (the listing's JSON types and the review
 * file's pure functions) is also `@mixseg/server/shared`, which imports nothing from Node.
 */
export type { FolderListing, InputEntry, ListedFile, ListingProblem } from './folder-listing.ts';
export type { ListFolderOptions } from './list-folder.ts';
export {
  formatReviewTable,
  formatReviewTsv,
  MAX_NOTE_LENGTH,
  MAX_SUBJECT_LENGTH,
  parseReviewTable,
  parseReviewTsv,
  ReviewFileError,
  type ReviewMark,
  type ReviewStatus,
  type ReviewTable,
  reviewMarks,
  setReviewMark,
  updateReviewTsv,
  validateReviewMark,
} from './review-file.ts';
export { REVIEW_FILE, REVIEW_LOCK_FILE, type ReviewStoreOptions } from './review-store.ts';
export { startViewerServer, type ViewerServer, type ViewerServerOptions } from './serve.ts';
