/** A URL's `user:password@`, wherever it stands in a text. */
const URL_CREDENTIALS = /\/\/[^/?#\s]*@/g;

/** `text` fit to print: a URL's credentials in it read `***` (`http://***@collector:4318`). */
export function hideUrlCredentials(text: string): string {
  return text.replace(URL_CREDENTIALS, '//***@');
}
