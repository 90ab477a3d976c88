/**
 * The entries of a comma-separated variable, each trimmed, the empty ones dropped: how the master
 * key lists (DATA_KEY_PREVIOUS_SECRETS, DATA_KEY_PREVIOUS_FILES) are read, at start and by the
 * command-line tools alike, so the check at start sees the entries that are used.
 */
export function commaList(text: string): string[] {
  return text
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
}
