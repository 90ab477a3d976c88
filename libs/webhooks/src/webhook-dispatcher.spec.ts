import { redactedUrl } from './webhook-dispatcher';

describe('redactedUrl (url.full of a delivery span)', () => {
  it('given a receiver URL with a token in its query, then every query value is REDACTED and the rest is kept', () => {
    expect(redactedUrl('https://hooks.example.com:8443/in/brain?token=s3cret&team=front&token=again#frag')).toBe(
      'https://hooks.example.com:8443/in/brain?token=REDACTED&team=REDACTED',
    );
  });

  it('given a URL without a query, then it is unchanged; given no URL, then nothing', () => {
    expect(redactedUrl('http://127.0.0.1:8080/hooks')).toBe('http://127.0.0.1:8080/hooks');
    expect(redactedUrl('not a url')).toBe('');
  });
});
