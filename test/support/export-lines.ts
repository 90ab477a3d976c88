import { EXPORT_END_LINE, formatExportEndLine, SUBJECT_KEY_LINE } from '@app/audit';

/**
 * An export's lines after an edit, with the end line counted anew (one partition), as someone who
 * alters a backup on purpose would write it: the import takes the file, and verify is what must
 * catch the edit.
 */
export function withEndLineCounted(lines: readonly string[], partitions = 1): string[] {
  const body = lines.filter((line) => !line.includes(`"kind":"${EXPORT_END_LINE}"`));
  const subjectKeys = body.filter((line) => line.includes(`"kind":"${SUBJECT_KEY_LINE}"`)).length;
  return [...body, formatExportEndLine({ events: body.length - subjectKeys, subjectKeys, partitions }).trimEnd()];
}
