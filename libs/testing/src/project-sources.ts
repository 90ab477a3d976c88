import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/** The repository's root, which the relative paths of projectSources start from. */
const REPOSITORY_ROOT = join(__dirname, '..', '..', '..');

/**
 * Every file of the libraries and apps whose name `matches` (a `.lua` ending, a `.ts` that is no
 * spec), with its path from the repository's root and its text: for checks that a convention
 * holds across the code base.
 */
export function projectSources(matches: (name: string) => boolean): { file: string; text: string }[] {
  const found: { file: string; text: string }[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (matches(entry.name)) found.push({ file: relative(REPOSITORY_ROOT, path), text: readFileSync(path, 'utf8') });
    }
  };
  for (const top of ['libs', 'apps']) walk(join(REPOSITORY_ROOT, top));
  return found;
}
