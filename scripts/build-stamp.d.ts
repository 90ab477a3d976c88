/** Types of scripts/build-stamp.js, which is plain JavaScript because it runs before there is a build. */
export const ENTRIES: readonly string[];
export const STAMP: string;
export interface BuildState {
  stale: boolean;
  reason: string;
}
export function buildState(root?: string): BuildState;
export function beginBuild(root?: string): void;
export function endBuild(root?: string): void;
/** Runs `npm run build` in `root` when stale; resolves with its exit code (0 when nothing was to do). */
export function ensureBuilt(root?: string): number;
export function sourceFingerprint(root?: string): string;
