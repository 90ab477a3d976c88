import { LlmClient, LlmRequest, LlmResponse } from '@app/llm';

/**
 * An LLM client whose call, once begun, waits until the test releases it and then answers with
 * `answer`: the test changes the mission while the call is in flight, and decides when the reply comes.
 */
export class HeldLlmClient implements LlmClient {
  calls = 0;
  private releaseCall: () => void = () => undefined;

  constructor(
    private readonly answer: (request: LlmRequest) => Promise<LlmResponse>,
    readonly provider = 'held',
  ) {}

  /** Lets the call in flight answer. */
  release(): void {
    this.releaseCall();
  }

  async complete(request: LlmRequest): Promise<LlmResponse> {
    this.calls += 1;
    await new Promise<void>((resolve, reject) => {
      this.releaseCall = resolve;
      // As a real client's call ends when its caller aborts it (a stopping service).
      request.signal?.addEventListener('abort', () => reject(new Error('the call was aborted')), { once: true });
    });
    return this.answer(request);
  }
}
