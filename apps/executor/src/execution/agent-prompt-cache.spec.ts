import { AgentProfile, AgentRegistry } from '@app/agents';
import { KeyLayout } from '@app/event-store';
import { deleteKeysByPrefix, testKeyPrefix, testRedisConnection } from '@app/testing';
import { AGENT_PROMPT_TTL_MS, AgentPromptCache, FALLBACK_SYSTEM_PROMPT } from './agent-prompt-cache';

const PIA: AgentProfile = {
  id: 'agent-pia',
  name: 'Pia',
  skills: ['plumbing'],
  capacity: 2,
  credits: 100,
  model: 'mock',
  systemPrompt: 'You fix what leaks.',
};

describe('AgentPromptCache (real Redis)', () => {
  const redis = testRedisConnection('agent-prompt-cache-spec');
  const prefix = testKeyPrefix('agent-prompt-cache');
  const registry = new AgentRegistry(redis, new KeyLayout(prefix));

  afterAll(async () => {
    await deleteKeysByPrefix(redis, prefix);
    await redis.quit();
  });

  it("given an agent's prompt edited, then executors use the new one once AGENT_PROMPT_TTL_MS has passed, not only after a restart", async () => {
    let now = 1_000_000;
    const cache = new AgentPromptCache(registry, AGENT_PROMPT_TTL_MS, () => now);
    await registry.register(PIA, 'test');
    expect(await cache.promptOf('agent-pia')).toBe('You fix what leaks.');

    await registry.change('agent-pia', { fields: { systemPrompt: 'You fix what leaks, and say when.' } }, 'test');
    now += AGENT_PROMPT_TTL_MS - 1;
    expect(await cache.promptOf('agent-pia')).toBe('You fix what leaks.');
    // The old prompt used to stay until the executor restarted.
    now += 1;
    expect(await cache.promptOf('agent-pia')).toBe('You fix what leaks, and say when.');
  });

  it('given an agent without a record, then the fallback prompt is used, and its prompt once it is registered', async () => {
    let now = 0;
    const cache = new AgentPromptCache(registry, AGENT_PROMPT_TTL_MS, () => now);
    expect(await cache.promptOf('agent-ole')).toBe(FALLBACK_SYSTEM_PROMPT);
    await registry.register({ ...PIA, id: 'agent-ole', systemPrompt: 'You count towels.' }, 'test');
    now += AGENT_PROMPT_TTL_MS;
    expect(await cache.promptOf('agent-ole')).toBe('You count towels.');
  });
});
