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

  it.each([
    ['IPv4-compatible IPv6 of loopback', 'http://[::127.0.0.1]:24151/', false],
    ['IPv4-compatible IPv6 of a public address', 'http://[::93.184.216.34]/', false],
    ['NAT64 well-known prefix of loopback', 'http://[64:ff9b::127.0.0.1]/', false],
    ['NAT64 well-known prefix of a private address', 'http://[64:ff9b::a00:5]/', false],
    ['NAT64 well-known prefix of a metadata address', 'http://[64:ff9b::169.254.169.254]/', false],
    ['NAT64 well-known prefix of a public address', 'http://[64:ff9b::93.184.216.34]/', true],
    ['NAT64 local-use prefix', 'http://[64:ff9b:1::7f00:1]/', false],
    ['6to4 of loopback', 'http://[2002:7f00:1::1]/', false],
    ['6to4 of a public address', 'http://[2002:5db8:d822::1]/', false],
    ['Teredo', 'http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/', false],
    ['SIIT IPv4-translated', 'http://[::ffff:0:7f00:1]/', false],
    ['Azure WireServer', 'http://168.63.129.16/machine', false],
    ['Alibaba Cloud metadata', 'http://100.100.100.200/latest/meta-data', false],
    ['Oracle Cloud metadata', 'http://192.0.0.192/', false],
    ['AWS metadata over IPv6', 'http://[fd00:ec2::254]/', false],
    ['a public IPv6 address', 'http://[2606:2800:220:1::1]/', true],
  ])('given no allowed hosts, then %s (%s) passes: %s', async (_what, url, passes) => {
    const check = await new TargetUrlPolicy('', false, resolve).check(url);
    if (passes) expect(check).toMatchObject({ ok: true });
    else expect(check).toMatchObject({ ok: false, problem: expect.stringContaining('WEBHOOK_ALLOWED_HOSTS does not list') });
  });

  it('given IPv6 loopback or unspecified, then the refusal names them so, not IPv4-compatible', async () => {
    const policy = new TargetUrlPolicy('', false, resolve);
    expect(await policy.check('http://[::1]:4000/x')).toMatchObject({
      problem: 'url host ::1 resolves to ::1 (loopback), which WEBHOOK_ALLOWED_HOSTS does not list',
    });
    expect(await policy.check('http://[::]/x')).toMatchObject({
      problem: 'url host :: resolves to :: (unspecified), which WEBHOOK_ALLOWED_HOSTS does not list',
    });
    expect(await policy.check('http://[::a00:1]/x')).toMatchObject({
      problem: 'url host ::a00:1 resolves to ::a00:1 (ipv4Compatible), which WEBHOOK_ALLOWED_HOSTS does not list',
    });
  });

  it('given a metadata or IPv4-compatible address that WEBHOOK_ALLOWED_HOSTS lists, then it passes', async () => {
    const policy = new TargetUrlPolicy('168.63.129.16, ::/96', false, resolve);
    expect(await policy.check('http://168.63.129.16/')).toMatchObject({ ok: true });
    expect(await policy.check('http://[::127.0.0.1]/')).toMatchObject({ ok: true });
    expect(await policy.check('http://100.100.100.200/')).toMatchObject({ ok: false });
  });

  it('given allowed hosts by address, range and name, then those pass whatever they resolve to', async () => {
    const policy = new TargetUrlPolicy(' 127.0.0.1 , 10.0.0.0/8, receiver.test ', false, resolve);
    expect(await policy.check('http://127.0.0.1:4000/hook')).toMatchObject({ ok: true, addresses: ['127.0.0.1'] });
    expect(await policy.check('https://internal.example.com/')).toMatchObject({ ok: true, addresses: ['10.1.2.3'] });
    expect(await policy.check('http://receiver.test/')).toMatchObject({ ok: true });
    expect(await policy.check('http://127.0.0.2/')).toMatchObject({ ok: false });
    expect(await policy.check('http://192.168.0.1/')).toMatchObject({ ok: false });
  });

  it('given a URL of another scheme, with credentials or port 0, unparsable or that does not resolve, then it is refused with the reason', async () => {
    const policy = new TargetUrlPolicy('', false, resolve);
    expect(await policy.check('ftp://hooks.example.com/')).toEqual({ ok: false, problem: 'url must use http or https' });
    expect(await policy.check('https://user:pw@hooks.example.com/')).toEqual({ ok: false, problem: 'url must not hold credentials' });
    // A subscription stored with port 0 before the API refused it: Node called port 80 instead.
    expect(await policy.check('http://hooks.example.com:0/')).toEqual({ ok: false, problem: 'url must not name port 0' });
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
