import { hashString, MissionType } from '@app/mission';
import { LlmClient, LlmMissionContext, LlmRequest, LlmResponse } from './llm-client';
import { LlmError, LlmErrorCode } from './llm-error';
import { draftGuestSupport } from './mock-drafts/guest-support-draft';
import { draftMaintenance } from './mock-drafts/maintenance-draft';
import { draftPricing } from './mock-drafts/pricing-draft';
import { parseReplyFor } from './parse-output';
import { mulberry32, Rng } from './prng';

export interface MockLlmOptions {
  /** Simulated provider latency; 0 answers without any timer. */
  latencyMs: number;
  /** Share of calls that fail with a retryable provider error (0..1). */
  failureRate: number;
  /** Share of calls whose text is not JSON (0..1). */
  malformedRate: number;
  /**
   * Share of first drafts (no review feedback yet) that miss a rubric point, so the
   * evaluate → retry → feedback loop can be exercised. Defaults to 0.
   */
  flawRate?: number;
}

export const MOCK_MODEL = 'mock-hotel-1';

export type MockDraft = (context: LlmMissionContext, rng: Rng, flawed: boolean) => Record<string, unknown>;

/** The mock model's answer per mission type; fault tests script a fake hosted model with the same drafts. */
export const MOCK_DRAFTS: Readonly<Record<MissionType, MockDraft>> = {
  guest_support: draftGuestSupport,
  pricing: draftPricing,
  maintenance: draftMaintenance,
};

/**
 * A deterministic stand-in for a hosted model: everything, including whether the call fails, is
 * drawn from a PRNG seeded with missionId:attempt, so a replayed attempt behaves identically
 * and a retry gets a fresh draw.
 */
export class MockLlmClient implements LlmClient {
  readonly provider = 'mock';

  constructor(private readonly options: MockLlmOptions = { latencyMs: 0, failureRate: 0, malformedRate: 0 }) {}

  async complete(request: LlmRequest): Promise<LlmResponse> {
    const started = performance.now();
    const { context } = request;
    const rng = mulberry32(hashString(`${context.missionId}:${context.attempt}`));
    // Fixed draw order: changing a rate must not change the wording of the drafts that do succeed.
    const failureDraw = rng();
    const malformedDraw = rng();
    const flawDraw = rng();

    await simulateLatency(this.options.latencyMs, request.timeoutMs, request.signal);
    if (failureDraw < this.options.failureRate) {
      throw new LlmError(LlmErrorCode.ProviderError, 'mock provider failure', true);
    }
    const flawed = !context.feedback && flawDraw < (this.options.flawRate ?? 0);
    const draft = context.judge ? mockVerdict(context.judge.criteria) : MOCK_DRAFTS[context.missionType](context, rng, flawed);
    const json = JSON.stringify(draft);
    const rawText = malformedDraw < this.options.malformedRate ? `Sure! Here is my answer: ${json.slice(0, json.length >> 1)}` : json;
    const output = parseReplyFor(request, rawText);
    return {
      output,
      rawText,
      usage: { promptTokens: estimateTokens(promptText(request)), completionTokens: estimateTokens(rawText) },
      model: MOCK_MODEL,
      latencyMs: Math.round(performance.now() - started),
    };
  }
}

/** The mock as a judge has no opinion of its own: it finds every criterion met. */
function mockVerdict(criteria: readonly string[]): Record<string, unknown> {
  return { criteria: criteria.map((criterion) => ({ criterion, score: 1 })), reason: 'mock judge: every criterion met' };
}

/** The usual rule of thumb for English-like text: about four characters per token. */
function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

function promptText(request: LlmRequest): string {
  return [request.systemPrompt, ...request.messages.map((m) => m.content)].join('\n');
}

/** A timeout below the latency rejects when the timeout fires, as a real HTTP client would. */
function simulateLatency(latencyMs: number, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortedError());
  if (latencyMs <= 0) return Promise.resolve();
  const timesOut = timeoutMs > 0 && latencyMs > timeoutMs;
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortedError());
    };
    const timer = setTimeout(
      () => {
        signal?.removeEventListener('abort', onAbort);
        if (timesOut) reject(new LlmError(LlmErrorCode.Timeout, `mock provider did not answer within ${timeoutMs} ms`, true));
        else resolve();
      },
      timesOut ? timeoutMs : latencyMs,
    );
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function abortedError(): LlmError {
  return new LlmError(LlmErrorCode.Aborted, 'request was aborted', false);
}
