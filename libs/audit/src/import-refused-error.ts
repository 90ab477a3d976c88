/** Thrown when an export file is not whole (cut short, appended to, counts that do not match) or was made with other partitions; nothing was written. */
export class ImportRefusedError extends Error {
  readonly code = 'IMPORT_REFUSED';
  /** `endLineMissing`: refused only for lacking an end line, which an export made before exports wrote one also lacks. */
  constructor(
    message: string,
    readonly endLineMissing = false,
  ) {
    super(`refusing to import: ${message}; nothing was written`);
    this.name = 'ImportRefusedError';
  }
}
