import { isUtf8 } from 'node:buffer';
import { parse, ParsedUrlQuery } from 'node:querystring';

/** On a query parseQuery made: the names of its parameters whose bytes are not UTF-8; absent when every one's are. */
export const NOT_UTF8 = Symbol('query parameters not UTF-8');

export type ParsedQuery = ParsedUrlQuery & { [NOT_UTF8]?: ReadonlySet<string> };

/** A percent-escape of a byte over 0x7F, or a character outside ASCII: without either, a query is ASCII, so UTF-8. */
const NOT_ASCII = /%[89a-f]|[^\p{ASCII}]/iu;

/**
 * Whether a query string (or a part of one), its percent-escapes decoded, is UTF-8. Node hands a
 * URL's raw bytes on as Latin-1 characters, so the string as Latin-1 with each escape as its byte
 * is the bytes the client meant.
 */
function isUtf8Query(text: string): boolean {
  if (!NOT_ASCII.test(text)) return true;
  return isUtf8(
    Buffer.from(
      text.replace(/%[0-9a-f]{2}/gi, (escape) => String.fromCharCode(parseInt(escape.slice(1), 16))),
      'latin1',
    ),
  );
}

/**
 * The intake's query parser (Express's `query parser`): node:querystring, as Express's 'simple'
 * is, which decodes bytes that are not UTF-8 (`?title=%FF`) as U+FFFD, a value the client never
 * sent. Such parameters are named on the result (NOT_UTF8) for RequestValidationPipe to refuse,
 * rather than thrown here: Express parses the query wherever it is read, the authentication
 * middleware included, where a throw would answer before the key is checked. Only a query that is
 * not UTF-8 as a whole is split to find them.
 */
export function parseQuery(text: string | null | undefined): ParsedQuery {
  const query: ParsedQuery = parse(text ?? '');
  if (text && !isUtf8Query(text)) {
    query[NOT_UTF8] = new Set(
      text
        .split('&')
        .filter((pair) => !isUtf8Query(pair))
        .flatMap((pair) => Object.keys(parse(pair))),
    );
  }
  return query;
}
