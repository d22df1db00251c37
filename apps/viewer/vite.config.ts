import { defineConfig } from 'vite';

export default defineConfig({
  // Relative asset URLs: the page works from any path (the server, a static host, file copies).
  base: './',
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 4096 },
  worker: { format: 'es' },
});
