import { NewMissionEvent } from '@app/mission';
import { aCreateInput, aResult, anEvaluation, toEnvelopes } from '@app/testing';
import { dailyReportMetrics } from './daily-report.projection';

const metricsOf = (event: NewMissionEvent) => dailyReportMetrics(toEnvelopes([event])[0]);

describe('dailyReportMetrics', () => {
  it('given a created mission, then it counts one created', () => {
    expect(metricsOf({ type: 'MissionCreated', data: { ...aCreateInput(), requiredSkills: [] } })).toEqual([['created', 1]]);
  });

  it('given a completed attempt with a price, then it adds its tokens and cost; without one, no cost', () => {
    expect(metricsOf({ type: 'MissionCompleted', data: { agentId: 'a', attempt: 1, result: aResult({ costUsd: 0.0021 }) } })).toEqual([
      ['promptTokens', 300],
      ['completionTokens', 80],
      ['costUsd', 0.0021],
    ]);
    expect(metricsOf({ type: 'MissionCompleted', data: { agentId: 'a', attempt: 1, result: aResult() } })).toEqual([
      ['promptTokens', 300],
      ['completionTokens', 80],
    ]);
  });

  it('given a failed attempt whose reply the provider billed, then it adds its tokens and cost to the failure; an old failure without usage, none', () => {
    const usage = { promptTokens: 1000, completionTokens: 2000 };
    expect(metricsOf({ type: 'MissionFailed', data: { agentId: 'a', attempt: 1, error: 'cut off', usage, costUsd: 0.00135 } })).toEqual([
      ['failedAttempts', 1],
      ['promptTokens', 1000],
      ['completionTokens', 2000],
      ['costUsd', 0.00135],
    ]);
    expect(metricsOf({ type: 'MissionFailed', data: { agentId: 'a', attempt: 1, error: 'cut off', usage } })).toEqual([
      ['failedAttempts', 1],
      ['promptTokens', 1000],
      ['completionTokens', 2000],
    ]);
  });

  it('given a reply billed after its attempt was over (LateReplyBilled), then it adds its tokens and cost and counts no attempt', () => {
    const usage = { promptTokens: 640, completionTokens: 120 };
    expect(metricsOf({ type: 'LateReplyBilled', data: { agentId: 'a', attempt: 1, usage, costUsd: 0.0009, runId: 'run-1' } })).toEqual([
      ['promptTokens', 640],
      ['completionTokens', 120],
      ['costUsd', 0.0009],
    ]);
  });

  it('given an evaluation, then it counts it with its score, and a success only when it passed', () => {
    expect(metricsOf({ type: 'MissionEvaluated', data: anEvaluation(1, true) })).toEqual([
      ['evaluations', 1],
      ['scoreSum', 0.9],
      ['succeeded', 1],
    ]);
    expect(metricsOf({ type: 'MissionEvaluated', data: anEvaluation(1, false) })).toEqual([
      ['evaluations', 1],
      ['scoreSum', 0.4],
    ]);
  });

  it("given an LLM judge's evaluation, then it adds the judge call's tokens and cost, a pass held for review included", () => {
    const usage = { promptTokens: 700, completionTokens: 90 };
    expect(metricsOf({ type: 'MissionEvaluated', data: { ...anEvaluation(1, true), usage, costUsd: 0.0004 } })).toEqual([
      ['evaluations', 1],
      ['scoreSum', 0.9],
      ['succeeded', 1],
      ['promptTokens', 700],
      ['completionTokens', 90],
      ['costUsd', 0.0004],
    ]);
    expect(metricsOf({ type: 'MissionEvaluated', data: { ...anEvaluation(1, true), heldForReview: true, usage } })).toEqual([
      ['evaluations', 1],
      ['scoreSum', 0.9],
      ['promptTokens', 700],
      ['completionTokens', 90],
    ]);
  });

  it('given queue moves and assignments, then the report counts nothing for them', () => {
    expect(metricsOf({ type: 'MissionQueued', data: { priorityScore: 30, reason: 'created' } })).toEqual([]);
    expect(metricsOf({ type: 'MissionAssigned', data: { agentId: 'a', attempt: 1 } })).toEqual([]);
  });

  it.each([
    [{ type: 'MissionStarted', data: { agentId: 'a', attempt: 1 } }, 'attempts'],
    [{ type: 'MissionFailed', data: { agentId: 'a', attempt: 1, error: 'timeout' } }, 'failedAttempts'],
    [{ type: 'MissionDeadLettered', data: { reason: 'max attempts', attempts: 3, lastError: 'x' } }, 'deadLettered'],
    [{ type: 'MissionRequeued', data: { reason: 'fixed', priorityScore: 30 } }, 'requeued'],
    [{ type: 'MissionCancelled', data: { reason: 'guest left' } }, 'cancelled'],
  ] as [NewMissionEvent, string][])('given %j, then it counts one %s', (event, metric) => {
    expect(metricsOf(event)).toEqual([[metric, 1]]);
  });
});
