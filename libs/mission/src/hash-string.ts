/**
 * FNV-1a: a stable, fast string hash. Every process maps a mission id to the same log partition
 * with it, and neighbouring seeds such as "m1:1" and "m1:2" land far apart.
 */
export function hashString(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
