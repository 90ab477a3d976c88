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

/**
 * A refused URL's user-info: after its scheme (when it starts with one), up to its last `@`, with or
 * without the `//` that hideUrlCredentials needs (a refused value may be any text: `redis:pw@host`).
 */
const USER_INFO_AFTER_SCHEME = /^([a-z][a-z\d+.-]*:\/*)?[\s\S]*@/i;

/** A URL's query and fragment: a client may take a secret there too (ioredis reads `?password=`, a gateway `?api-key=`). */
const URL_QUERY = /[?#][\s\S]*$/;

/**
 * The value of a URL variable (REDIS_URL, LLM_BASE_URL, …) fit to show in a refusal: its scheme,
 * host, port and path as written, where the typos are (`http://127.0.0.1:6379`), its user-info,
 * query and fragment `***`. The whole value hidden left nothing to see the mistake by.
 */
export function hideUrlSecrets(value: string): string {
  return value.replace(USER_INFO_AFTER_SCHEME, '$1***@').replace(URL_QUERY, (rest) => `${rest[0]}***`);
}
