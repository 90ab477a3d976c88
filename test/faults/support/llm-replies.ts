import { LlmMissionContext, MOCK_DRAFTS, mulberry32 } from '@app/llm';
import { MissionType, hashString } from '@app/mission';
import { ReceivedRequest, ScriptedReply } from '@app/testing';

/**
 * Reads the mission back out of an OpenAI-style request built by buildLlmRequest: the type from
 * `response_format.json_schema.name` (`<type>_output`), title, description and payload from the
 * prompt's `<mission-data>` block (missionDataBlock in libs/llm/src/prompt-builder.ts).
 */
export function missionContextOf(request: ReceivedRequest): LlmMissionContext | null {
  const format = request.body.response_format as { json_schema?: { name?: string } } | undefined;
  const type = format?.json_schema?.name?.replace(/_output$/, '') as MissionType | undefined;
  if (!type || !(type in MOCK_DRAFTS)) return null;
  const messages = (request.body.messages ?? []) as { role: string; content: string }[];
  const prompt = messages.find((m) => m.role === 'user')?.content ?? '';
  const block = /<mission-data>\n([\s\S]*?)\n<\/mission-data>/.exec(prompt)?.[1];
  if (block === undefined) return null;
  let data: { title?: unknown; description?: unknown; payload?: unknown };
  try {
    data = JSON.parse(block) as typeof data;
  } catch {
    return null;
  }
  if (typeof data.title !== 'string' || typeof data.payload !== 'object' || data.payload === null) return null;
  const description = typeof data.description === 'string' ? data.description : '';
  return {
    missionId: 'from-prompt',
    attempt: 1,
    missionType: type,
    title: data.title,
    description,
    payload: data.payload as Record<string, unknown>,
    feedback: null,
  };
}

/**
 * A reply that passes the schema and the rubric: the mock LLM's own unflawed draft for the mission
 * in the prompt. An unreadable prompt gets `{}`, which the client rejects as malformed output.
 */
export function validReply(request: ReceivedRequest): ScriptedReply {
  const context = missionContextOf(request);
  if (!context) return { status: 200, content: '{}' };
  const draft = MOCK_DRAFTS[context.missionType](context, mulberry32(hashString(context.title)), false);
  return { status: 200, content: JSON.stringify(draft) };
}
