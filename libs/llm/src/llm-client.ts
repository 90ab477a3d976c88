import { MissionType, TokenUsage } from '@app/mission';

export interface LlmMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface LlmRequest {
  systemPrompt: string;
  messages: LlmMessage[];
  /** JSON schema the answer must match (see output-schemas.ts). */
  outputSchema: Record<string, unknown>;
  timeoutMs: number;
  signal?: AbortSignal;
  /** The mission as structured data, so a client can seed, log or fake without parsing the prompt. */
  context: {
    missionId: string;
    attempt: number;
    missionType: MissionType;
    title: string;
    description: string;
    payload: Record<string, unknown>;
    feedback?: string | null;
    /** Present when the request asks for a verdict on a result (LLM as judge), not for the result. */
    judge?: { criteria: string[] };
  };
}

export interface LlmResponse {
  output: Record<string, unknown>;
  rawText: string;
  usage: TokenUsage;
  model: string;
  latencyMs: number;
  /** USD, from the client's price table; undefined when the model has no known price. */
  costUsd?: number;
  /** HTTP attempts the client made, retries included; absent for clients that make none. */
  attempts?: number;
}

export interface LlmClient {
  readonly provider: string;
  /** Rejects with LlmError only. */
  complete(request: LlmRequest): Promise<LlmResponse>;
}

export const LLM_CLIENT = Symbol('LLM_CLIENT');

export type LlmMissionContext = LlmRequest['context'];
