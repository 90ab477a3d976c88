import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A file of the repository (e.g. `README.md`) with its line breaks made spaces, so a sentence reads the same wherever it wraps. */
export function flatDoc(file: string): string {
  return readFileSync(join(__dirname, '../..', file), 'utf8').replace(/\s+/g, ' ');
}
