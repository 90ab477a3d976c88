/**
 * A URL's `user:password@`, wherever it stands in a text: everything from `//` to the text's last
 * `@`, line breaks included. Greedy on purpose: a password holding `/`, `?`, `#`, a blank or a line
 * break is what keeps a URL from parsing, so it is the one a refusal quotes; a path's `@` masks the
 * host with it, which only says less.
 */
const URL_CREDENTIALS = /\/\/[\s\S]*@/g;

/** `text` fit to print: a URL's credentials in it read `***` (`http://***@collector:4318`). */
export function hideUrlCredentials(text: string): string {
  return text.replace(URL_CREDENTIALS, '//***@');
}
