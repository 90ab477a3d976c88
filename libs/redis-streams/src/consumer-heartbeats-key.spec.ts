import { consumerHeartbeatsKey } from './redis-streams.server';

describe('consumerHeartbeatsKey', () => {
  it("given a stream key with a hash tag, then the heartbeats key follows it, so it is in the stream's slot", () => {
    expect(consumerHeartbeatsKey('brain:{m3}:stream:executor', 'executor')).toBe('brain:{m3}:stream:executor:heartbeats:executor');
  });

  it("given a stream key without a hash tag, then the heartbeats key takes the stream's whole key as its tag", () => {
    expect(consumerHeartbeatsKey('brain:jobs', 'workers')).toBe('{brain:jobs}:heartbeats:workers');
  });
});
