import { ConfigError, loadEnvironment } from './load-config';
import { DEFAULT_RETENTION_DAYS, parseRetentionDays } from './retention-days';

describe('RETENTION_DAYS', () => {
  it('given nothing, then every type keeps its documented default, and the check runs hourly', () => {
    const env = loadEnvironment({});
    expect(parseRetentionDays(env.RETENTION_DAYS)).toEqual({ guest_support: 90, pricing: 365, maintenance: 365 });
    expect(parseRetentionDays(env.RETENTION_DAYS)).toEqual(DEFAULT_RETENTION_DAYS);
    expect(env.RETENTION_CHECK_MS).toBe(3_600_000);
  });

  it('given some types, then those change and the others keep their default', () => {
    const env = loadEnvironment({ RETENTION_DAYS: 'guest_support:30, pricing:0,' });
    expect(parseRetentionDays(env.RETENTION_DAYS)).toEqual({ guest_support: 30, pricing: 0, maintenance: 365 });
  });

  it.each([
    ['guest_support=30', 'RETENTION_DAYS entry 1 ("guest_support=30") is not type:days, e.g. guest_support:30,pricing:365'],
    ['guest_support:30,pricng:5', 'RETENTION_DAYS entry 2 ("pricng:5") names no mission type (guest_support, pricing, maintenance)'],
    ['pricing:1,pricing:2', 'RETENTION_DAYS entry 2 ("pricing:2") names pricing a second time'],
    ['maintenance:40000', 'RETENTION_DAYS entry 1 ("maintenance:40000") keeps 40000 days, more than 36500'],
    ['guest_support:-1', 'RETENTION_DAYS entry 1 ("guest_support:-1") is not type:days, e.g. guest_support:30,pricing:365'],
  ])('given %s, then the service refuses to start, naming the entry', (value, message) => {
    expect(() => loadEnvironment({ RETENTION_DAYS: value })).toThrow(ConfigError);
    expect(() => loadEnvironment({ RETENTION_DAYS: value })).toThrow(`RETENTION_DAYS=${JSON.stringify(value)}: ${message}`);
  });

  it('given a check period below a second, then it is refused', () => {
    expect(() => loadEnvironment({ RETENTION_CHECK_MS: '10' })).toThrow(/RETENTION_CHECK_MS="10": RETENTION_CHECK_MS must not be less than 1000/);
  });
});

describe('ERASURE_SWEEP_MS', () => {
  it('given nothing, then pending erasures are finished every 30 s', () => {
    expect(loadEnvironment({}).ERASURE_SWEEP_MS).toBe(30_000);
  });

  it.each([
    ['10', 'ERASURE_SWEEP_MS must not be less than 1000'],
    ['3600001', 'ERASURE_SWEEP_MS must not be greater than 3600000'],
  ])('given %s, then it is refused', (value, message) => {
    expect(() => loadEnvironment({ ERASURE_SWEEP_MS: value })).toThrow(`ERASURE_SWEEP_MS="${value}": ${message}`);
  });
});
