import { TargetUrlPolicy } from './target-url-policy';

/** A resolver with a fixed table, so no test depends on the machine's DNS. */
const table: Record<string, string[]> = {
  'hooks.example.com': ['93.184.216.34'],
  'internal.example.com': ['10.1.2.3'],
  'mixed.example.com': ['93.184.216.34', '127.0.0.1'],
  'receiver.test': ['127.0.0.1'],
  'v6.example.com': ['2606:2800:220:1::1'],
};
const resolve = async (host: string): Promise<string[]> => {
  const found = table[host];
  if (!found) throw new Error(`getaddrinfo ENOTFOUND ${host}`);
  return found;
};

describe('TargetUrlPolicy (which webhook URLs may be called)', () => {
  it('given no allowed hosts, then public addresses pass and private, loopback, link-local and mapped ones are refused, by literal or by name', async () => {
    const policy = new TargetUrlPolicy('', false, resolve);
    for (const url of ['https://hooks.example.com/x', 'http://93.184.216.34:8080/', 'https://v6.example.com/']) {
      expect(await policy.check(url)).toMatchObject({ ok: true });
    }
    for (const url of [
      'http://127.0.0.1/',
      'http://[::1]/',
      'http://10.0.0.5/',
      'http://192.168.1.1/',
      'http://169.254.169.254/latest/meta-data',
      'http://[::ffff:127.0.0.1]/',
      'http://0.0.0.0/',
      'https://internal.example.com/',
      'https://mixed.example.com/',
    ]) {
      const check = await policy.check(url);
      expect(check).toMatchObject({ ok: false, problem: expect.stringContaining('WEBHOOK_ALLOWED_HOSTS does not list') });
    }
  });

  it('given allowed hosts by address, range and name, then those pass whatever they resolve to', async () => {
    const policy = new TargetUrlPolicy(' 127.0.0.1 , 10.0.0.0/8, receiver.test ', false, resolve);
    expect(await policy.check('http://127.0.0.1:4000/hook')).toMatchObject({ ok: true, addresses: ['127.0.0.1'] });
    expect(await policy.check('https://internal.example.com/')).toMatchObject({ ok: true, addresses: ['10.1.2.3'] });
    expect(await policy.check('http://receiver.test/')).toMatchObject({ ok: true });
    expect(await policy.check('http://127.0.0.2/')).toMatchObject({ ok: false });
    expect(await policy.check('http://192.168.0.1/')).toMatchObject({ ok: false });
  });

  it('given a URL of another scheme, with credentials, unparsable or that does not resolve, then it is refused with the reason', async () => {
    const policy = new TargetUrlPolicy('', false, resolve);
    expect(await policy.check('ftp://hooks.example.com/')).toEqual({ ok: false, problem: 'url must use http or https' });
    expect(await policy.check('https://user:pw@hooks.example.com/')).toEqual({ ok: false, problem: 'url must not hold credentials' });
    expect(await policy.check('not a url')).toMatchObject({ ok: false });
    expect(await policy.check('https://nowhere.example.com/')).toMatchObject({ ok: false, problem: expect.stringContaining('does not resolve') });
  });

  it('given only the allowed hosts may be called, then public hosts are refused too, and a name not listed is not even resolved', async () => {
    const asked: string[] = [];
    const policy = new TargetUrlPolicy('127.0.0.1, receiver.test', true, async (host) => {
      asked.push(host);
      return resolve(host);
    });
    expect(await policy.check('http://127.0.0.1:9/')).toMatchObject({ ok: true });
    expect(await policy.check('http://receiver.test/')).toMatchObject({ ok: true });
    expect(await policy.check('http://93.184.216.34/')).toMatchObject({ ok: false });
    expect(await policy.check('https://hooks.example.com/')).toMatchObject({ ok: false, problem: expect.stringContaining('WEBHOOK_ONLY_ALLOWED_HOSTS') });
    expect(asked).toEqual(['receiver.test']);
  });
});
