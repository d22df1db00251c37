/**
 * @mixseg/server/shared: what the viewer page shares with the server, safe in a browser (no Node
 * built-ins, no DOM): the JSON types of the folder listing (`GET /api/folder`) and the review
 * file's pure functions and types. Nothing here may import from Node; test/shared-entry.test.ts
 * checks that.
 */
export type { FolderListing, InputEntry, ListedFile, ListingProblem } from './folder-listing.ts';
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
