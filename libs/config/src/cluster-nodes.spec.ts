import { parseClusterNodes } from './cluster-nodes';

describe('parseClusterNodes', () => {
  it('given host:port entries, then each becomes a node, in order', () => {
    expect(parseClusterNodes('10.0.0.1:7000,redis-2.internal:7001,[::1]:7002')).toEqual([
      { host: '10.0.0.1', port: 7000 },
      { host: 'redis-2.internal', port: 7001 },
      { host: '::1', port: 7002 },
    ]);
  });

  it("given a fully qualified name with the root's trailing dot, then it is a node, and the same name without it a repeat", () => {
    expect(parseClusterNodes('redis-0.redis.svc.cluster.local.:7000')).toEqual([{ host: 'redis-0.redis.svc.cluster.local.', port: 7000 }]);
    expect(() => parseClusterNodes('redis-0.internal.:7000,redis-0.internal:7000')).toThrow(/entry 2 .* repeats an earlier entry/);
  });

  it('given spaces and a trailing comma, then they are ignored', () => {
    expect(parseClusterNodes(' 127.0.0.1:7000 , 127.0.0.1:7001 ,')).toEqual([
      { host: '127.0.0.1', port: 7000 },
      { host: '127.0.0.1', port: 7001 },
    ]);
  });

  it.each([
    ['', /lists no node/],
    [' , ', /lists no node/],
    ['127.0.0.1', /entry 1 \("127\.0\.0\.1"\) is not host:port/],
    ['127.0.0.1:7000,redis://127.0.0.1:7001', /entry 2 \("redis:\/\/127\.0\.0\.1:7001"\) is not host:port/],
    ['127.0.0.1:7000,:7001', /entry 2 .* names no host/],
    ['127.0.0.1:0', /entry 1 .* has port 0, outside 1-65535/],
    ['127.0.0.1:70000', /has port 70000, outside 1-65535/],
    ['::1:7000', /is not host:port/],
    ['127.0.0.1:7000,127.0.0.1:7000', /entry 2 .* repeats an earlier entry/],
    ['redis-1:7000,REDIS-1:7000', /entry 2 .* repeats an earlier entry/],
    ['[::1]:7000,[0:0::1]:7000', /entry 2 .* repeats an earlier entry/],
    ['[::::]:1', /entry 1 .* names no host: an IPv6 address goes before the port/],
    ['-:1', /entry 1 .* names no host: an IPv4 address or a host name/],
    ['...:1', /names no host/],
    ['redis-.internal:7000', /names no host/],
    ['*.internal:7000', /names no host/],
  ])('given %j, then it fails naming the problem', (text, message) => {
    expect(() => parseClusterNodes(text)).toThrow(message);
  });
});
