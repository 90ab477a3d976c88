/** Progress of a long operation, phase by phase; `total` is absent when it is not known up front. */
export interface Progress {
  phase: string;
  done: number;
  total?: number;
}

export type ProgressListener = (progress: Progress) => void;

export const noProgress: ProgressListener = () => undefined;
