/** @mixseg/server: moved here from apps/viewer/src/server (in progress). */
export {};
