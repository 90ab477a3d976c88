import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * Finds a file shipped with the repository (fixtures, prompts) by walking up from this module,
 * so it is found from the sources (tests), from dist/ and from any working directory.
 */
export function repoFile(relativePath: string): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const candidate = join(dir, relativePath);
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) return resolve(process.cwd(), relativePath);
  }
}

/**
 * Where a local run keeps what it generates for itself: `.data` beside package.json (the master
 * key `data-key`, the operator key `api-key`).
 */
export function localDataDir(): string {
  return join(dirname(repoFile('package.json')), '.data');
}
