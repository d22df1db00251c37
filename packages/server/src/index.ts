/**
 * @mixseg/server, Node only: the local server behind `mixseg view` and the viewer's dev server. It
 * serves a built viewer page, one results folder, the input images its sidecars name, and the
 * study review (review.tsv). The page's browser-safe part (the listing's JSON types and the review
 * file's pure functions) is also `@mixseg/server/shared`, which imports nothing from Node.
 */

export type { ListFolderOptions } from './list-folder.ts';
export { REVIEW_FILE, REVIEW_LOCK_FILE, type ReviewStoreOptions } from './review-store.ts';
export { startViewerServer, type ViewerServer, type ViewerServerOptions } from './serve.ts';
export * from './shared.ts';
