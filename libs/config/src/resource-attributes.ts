/**
 * Reads OTEL_RESOURCE_ATTRIBUTES as OpenTelemetry defines it: `key=value` pairs separated by
 * commas, each value percent-encoded (`deployment.environment=prod,service.namespace=hotel%20a`).
 * The SDK's own reader skips a pair it cannot read with a diagnostic nobody sees; this one refuses
 * it, and a key named twice (which value would win?), so a typo stops the service at start (exit
 * 78) instead of labelling no span.
 */
// The W3C Baggage format the variable follows: a key is a token (RFC 7230), so no space or quote.
const KEY = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export function parseResourceAttributes(text: string): Record<string, string> {
  const attributes: Record<string, string> = {};
  if (text.trim() === '') return attributes;
  for (const pair of text.split(',')) {
    const at = pair.indexOf('=');
    const key = at < 0 ? '' : pair.slice(0, at).trim();
    if (!key) throw new Error(`OTEL_RESOURCE_ATTRIBUTES must be key=value pairs separated by commas; "${pair.trim()}" is not one`);
    if (!KEY.test(key)) throw new Error(`OTEL_RESOURCE_ATTRIBUTES: the key ${JSON.stringify(key)} has a character a key cannot have (a space, a quote, …)`);
    if (Object.hasOwn(attributes, key)) throw new Error(`OTEL_RESOURCE_ATTRIBUTES names ${key} twice`);
    try {
      attributes[key] = decodeURIComponent(pair.slice(at + 1).trim());
    } catch {
      throw new Error(`OTEL_RESOURCE_ATTRIBUTES: the value of ${key} is not percent-encoded correctly`);
    }
  }
  return attributes;
}
