/**
 * Characters that must not reach an operator's terminal raw from stored text: C0 controls (ESC
 * starts the escape sequences that recolour, retitle or clear a terminal; CR rewrites a line; LF
 * forges a table row), DEL, C1 controls (U+009B is a one-character CSI), the Unicode line and
 * paragraph separators, and bidirectional embeddings, overrides and isolates, which make text read
 * as something else. The log may hold events written before the intake refused such text, so the
 * CLI escapes at print time whatever the intake accepted.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point of this pattern.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
// eslint-disable-next-line no-control-regex -- matching control characters is the point of this pattern.
const UNSAFE_BUT_LINE_FEED = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const NAMED: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escape(character: string): string {
  return NAMED[character] ?? `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/**
 * Stored text made safe to print: each unsafe character as a visible escape (`\n`, `\u001b`,
 * `\u202e`). The escapes are also JSON's, so JSON text stays valid JSON with the same meaning.
 * `keepLineFeeds` for output whose own lines are made by the caller (a table, indented JSON),
 * after its cells have been escaped without it.
 */
export function forTerminal(text: string, options: { keepLineFeeds?: boolean } = {}): string {
  return text.replace(options.keepLineFeeds ? UNSAFE_BUT_LINE_FEED : UNSAFE, escape);
}
