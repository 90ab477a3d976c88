import { aCreateInput, anEvaluation, MissionHistory } from '@app/testing';
import { decideApprove, decideAssign, decideComplete, decideCreate, decideStart, decideVerdict } from './decide';
import { finishedStatus } from './finished-status';

describe('finishedStatus', () => {
  const evaluated = (reviewRule: string | null) => {
    const history = new MissionHistory();
    history.append(decideCreate(aCreateInput()));
    history.apply(decideAssign(history.mission, 'agent-1'));
    history.apply(decideStart(history.mission, 1));
    history.apply(
      decideComplete(history.mission, 1, { output: { reply: 'Gern.' }, model: 'm', latencyMs: 1, usage: { promptTokens: 1, completionTokens: 1 } }),
    );
    history.apply(decideVerdict(history.mission, anEvaluation(1, true), 3, { reviewRule }));
    return history;
  };

  it('given a passing verdict with no review, then the mission finished as succeeded with it', () => {
    expect(finishedStatus(evaluated(null).events.at(-1)!)).toBe('succeeded');
  });

  it('given a passing verdict held for review, then nothing has finished until the approval, which succeeds it', () => {
    const history = evaluated('guest-replies');
    expect(history.events.slice(-2).map((event) => finishedStatus(event))).toEqual([null, null]);
    history.apply(decideApprove(history.mission, {}));
    expect(finishedStatus(history.events.at(-1)!)).toBe('succeeded');
  });
});
