// The operator console: bundled into dist/console by `npm run build`, served by the intake at /console.
import { fileURLToPath } from 'node:url';
import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/console/',
  plugins: [preact()],
  // `@app/<lib>/browser`, as console/tsconfig.json maps it: the entry of a lib that is safe to bundle for the browser.
  resolve: { alias: [{ find: /^@app\/([^/]+)\/browser$/, replacement: fileURLToPath(new URL('../libs/$1/src/browser.ts', import.meta.url)) }] },
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('../dist/console', import.meta.url)),
    // Not emptied: asset names carry content hashes, and test runs may build while another test
    // serves the console; a build then only adds files and rewrites index.html the same way.
    emptyOutDir: false,
    // One small bundle; no source maps shipped to browsers.
    sourcemap: false,
  },
});
