// Build the page into web/dist; the server crate embeds it. `npm run dev` proxies the API
// to a `yizhan serve` on port 8080 (override with YIZHAN_URL).
import { defineConfig } from 'vite';

const target = process.env.YIZHAN_URL || 'http://127.0.0.1:8080';

export default defineConfig({
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 2000,
    sourcemap: false,
  },
  server: {
    proxy: { '/api': target, '/ogc': target },
  },
});
