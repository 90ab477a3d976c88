import { MissionPersonalData } from '@app/guest-data';
import { finishedStatus, MISSION_EVENT_TYPES, MissionEvent, MissionEventType, MissionStatus } from '@app/mission';

/** The message sent for any mission that reached an end state, besides the event's own message. */
export const MISSION_FINISHED = 'mission.finished';

/** What a subscription may ask for: every mission event by name, and `mission.finished`. */
export const WEBHOOK_EVENT_TYPES: readonly string[] = [...MISSION_EVENT_TYPES, MISSION_FINISHED];
export type WebhookEventType = MissionEventType | typeof MISSION_FINISHED;

/** The body of one delivery: `{type, timestamp, data}`, as the Standard Webhooks specification recommends. */
export interface WebhookMessage {
  type: WebhookEventType;
  /** When the event happened (the event's `at`). */
  timestamp: string;
  /** A mission event: its envelope. `mission.finished`: the end status and the event that ended it. */
  data: MissionEvent | { missionId: string; status: MissionStatus; event: MissionEvent };
}

/** The messages an event gives: its own, and `mission.finished` when it ends the mission. */
export function webhookMessagesOf(event: MissionEvent): WebhookMessage[] {
  const messages: WebhookMessage[] = [{ type: event.type, timestamp: event.at, data: event }];
  const status = finishedStatus(event);
  if (status) messages.push({ type: MISSION_FINISHED, timestamp: event.at, data: { missionId: event.missionId, status, event } });
  return messages;
}

/** A stored delivery body with the personal fields of its event opened, for sending (see WebhookDispatcherOptions.openBody). */
export async function openWebhookBody(personal: MissionPersonalData, body: string): Promise<string> {
  const message = JSON.parse(body) as WebhookMessage;
  if ('eventId' in message.data) return JSON.stringify({ ...message, data: await personal.openEvent(message.data) });
  const finished = message.data;
  return JSON.stringify({ ...message, data: { ...finished, event: await personal.openEvent(finished.event) } });
}
