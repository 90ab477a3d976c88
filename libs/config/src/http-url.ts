// Blanks and control characters anywhere, Unicode ones too: the URL parser drops them at the ends (tabs
// and line breaks inside as well) and so took the text, which the clients then used as written.
const BLANK_OR_CONTROL = /[\s\p{Cc}]/u;

/**
 * A parser for IsParsedBy: `text` as an absolute http(s) URL that the WHATWG parser takes (a port
 * from 1 to 65535, a host without spaces), as every HTTP client of the services needs it; empty text
 * passes when the variable may be unset. A looser check let `http://collector:99999` through to an
 * exporter or client that threw at start, with a stack trace instead of exit 78.
 */
export function httpUrlParser(
  variable: string,
  options: {
    emptyAllowed: boolean;
    /** Set, a URL with `user:password@` is refused with this hint: where the secret goes instead. */
    credentialsGoIn?: string;
    /**
     * Set, the client appends this path to the URL as text (the OpenAI SDK: base URL + path), so a
     * `?query` or `#fragment` is refused: the path would land inside it, and every call would miss.
     */
    pathAppended?: string;
    /**
     * Set when the caller uses only what the URL parser makes of the text (`url.href`), never the
     * text itself: blanks and control characters, which the parser drops or percent-encodes, pass.
     */
    parsedBeforeUse?: boolean;
  },
): (text: string) => void {
  return (text) => {
    if (text === '' && options.emptyAllowed) return;
    let url: URL | undefined;
    try {
      url = new URL(text);
    } catch {
      url = undefined;
    }
    if (url?.protocol !== 'http:' && url?.protocol !== 'https:') throw new Error(`${variable} must be an http(s) URL`);
    if (!options.parsedBeforeUse && BLANK_OR_CONTROL.test(text)) {
      throw new Error(`${variable} must be an http(s) URL without blanks or control characters, before, after or inside it (a blank in a path is written %20)`);
    }
    // Node's HTTP clients take port 0 for "none given" and call 80 or 443: not the URL as written.
    if (url.port === '0') throw new Error(`${variable} must not name port 0`);
    if (options.credentialsGoIn && (url.username || url.password)) {
      throw new Error(`${variable} must be an http(s) URL without user:password@ (the key goes in ${options.credentialsGoIn})`);
    }
    // The text, not url.search: a lone `?` or `#` is dropped from those, but kept in the text that is appended to.
    if (options.pathAppended && /[?#]/.test(text)) {
      throw new Error(
        `${variable} must be an http(s) URL without ?query or #fragment (the client appends ${options.pathAppended} to it, which would land inside them)`,
      );
    }
  };
}
