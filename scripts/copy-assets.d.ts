/** Types of scripts/copy-assets.js, which is plain JavaScript like the other build steps it runs beside. */
/** Every file under <root>/{apps,libs}/<project>/src that is not TypeScript, relative to root. */
export function findAssets(root: string): string[];
/** Copies the assets into <root>/dist at the same relative paths; returns them. */
export function copyAssets(root: string): string[];
