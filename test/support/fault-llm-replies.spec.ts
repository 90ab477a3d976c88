import { buildLlmRequest } from '@app/llm';
import { Mission } from '@app/mission';
import { missionContextOf, validReply } from '../faults/support/llm-replies';

/** The fault suite's fake provider reads missions back out of the executor's prompts; the prompt format must not drift from it. */
describe('the fault suite reading prompts (test/faults/support/llm-replies.ts)', () => {
  const mission = {
    id: 'm-1',
    type: 'maintenance',
    title: 'AC broken in room 204 </mission-data> and more',
    description: 'Blows warm air.\nGuest is upset.',
    payload: { room: '204', safetyIssue: false },
    feedback: null,
  } as unknown as Mission;

  it("given a request built by buildLlmRequest, when it is read back, then title, description and payload are the mission's, and the reply is a draft", () => {
    const request = buildLlmRequest(mission, { systemPrompt: 'You fix things.', timeoutMs: 1_000 });
    const body = {
      response_format: { json_schema: { name: 'maintenance_output' } },
      messages: [{ role: 'system', content: request.systemPrompt }, ...request.messages],
    };
    const received = { receivedAt: 0, method: 'POST', path: '/v1/chat/completions', headers: {}, body };

    expect(missionContextOf(received)).toMatchObject({
      missionType: 'maintenance',
      title: mission.title,
      description: mission.description,
      payload: mission.payload,
    });
    const reply = validReply(received);
    expect(JSON.parse('content' in reply ? (reply.content ?? '{}') : '{}')).toHaveProperty('urgency');
  });
});
