import { EventEmitter } from 'node:events';
import Redis from 'ioredis';
import { ConnectionLoss } from './connection-loss';

const LIVENESS_MS = 1_000;

/** The events a connection emits, as ioredis emits them, without a socket: the rule alone is under test. */
class FakeNode extends EventEmitter {
  constructor(public status: string) {
    super();
  }
}

function watch(status: string): { node: FakeNode; loss: ConnectionLoss; losses: () => number } {
  const node = new FakeNode(status);
  const loss = new ConnectionLoss(node as unknown as Redis, LIVENESS_MS);
  let count = 0;
  loss.onLoss(() => count++);
  return { node, loss, losses: () => count };
}

describe('ConnectionLoss', () => {
  afterEach(() => jest.useRealTimers());

  it('given a ready connection that drops and is ready again at its first reconnect (a blip), then it never counts as lost', () => {
    const { node, loss, losses } = watch('ready');

    node.emit('error', new Error('read ECONNRESET'));
    node.emit('close');
    node.emit('reconnecting', 100);
    expect(loss.state).toBe('dropped');
    node.emit('connect');
    node.emit('ready');

    expect(loss.state).toBe('up');
    expect(losses()).toBe(0);
  });

  it('given a drop, when the first reconnect attempt fails (refused), then it counts as lost, once', () => {
    const { node, loss, losses } = watch('ready');

    node.emit('close');
    node.emit('reconnecting', 100);
    node.emit('error', new Error('connect ECONNREFUSED 127.0.0.1:1'));
    node.emit('close');
    node.emit('reconnecting', 200);
    node.emit('close');

    expect(loss.state).toBe('lost');
    expect(losses()).toBe(1);
  });

  it('given a drop by the liveness bound (Redis silent for all of it), then it counts as lost at once', () => {
    const { node, loss } = watch('ready');

    node.emit('error', new Error(`Socket timeout. Expecting data, but didn't receive any in ${LIVENESS_MS}ms.`));
    node.emit('close');

    expect(loss.state).toBe('lost');
  });

  it('given a drop whose reconnect neither succeeds nor fails, then it counts as lost once the liveness bound has run out since the drop', () => {
    jest.useFakeTimers();
    const { node, loss } = watch('ready');

    node.emit('close');
    jest.advanceTimersByTime(LIVENESS_MS - 1);
    expect(loss.state).toBe('dropped');
    jest.advanceTimersByTime(1);

    expect(loss.state).toBe('lost');
  });

  it('given a blip, then its liveness check ends with it: a later drop starts a check of its own', () => {
    jest.useFakeTimers();
    const { node, loss } = watch('ready');

    node.emit('close');
    jest.advanceTimersByTime(LIVENESS_MS / 2);
    node.emit('ready');
    jest.advanceTimersByTime(LIVENESS_MS);
    expect(loss.state).toBe('up');
    node.emit('close');
    jest.advanceTimersByTime(LIVENESS_MS / 2);

    expect(loss.state).toBe('dropped');
  });

  it('given a connection that ends, then it counts as lost', () => {
    const { node, loss } = watch('ready');

    node.emit('end');

    expect(loss.state).toBe('lost');
  });

  it('given a lazy connection whose first connect fails, then it counts as lost at once, and one never ready as lost from the start', () => {
    const lazy = watch('wait');
    expect(lazy.loss.state).toBe('idle');
    lazy.node.emit('close');
    expect(lazy.loss.state).toBe('lost');
    expect(lazy.losses()).toBe(1);

    expect(watch('connecting').loss.state).toBe('lost');
  });

  it('given a lost connection that is ready again, then it is up, and a later lasting loss is reported again', () => {
    const { node, loss, losses } = watch('ready');
    node.emit('end');
    node.emit('ready');
    expect(loss.state).toBe('up');

    node.emit('close');
    node.emit('close');

    expect(losses()).toBe(2);
  });
});
