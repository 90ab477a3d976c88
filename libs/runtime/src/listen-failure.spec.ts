import { createServer, Server } from 'node:net';
import { describeListenFailure } from './listen-failure';

describe('describeListenFailure', () => {
  let holder: Server;

  afterEach(async () => {
    await new Promise((resolve) => (holder?.listening ? holder.close(resolve) : resolve(undefined)));
  });

  it('given a port in use, then one line says so and what to do', async () => {
    holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, resolve));
    const port = (holder.address() as { port: number }).port;
    const error = await new Promise<Error>((resolve) => createServer().once('error', resolve).listen(port));

    const line = describeListenFailure(port, error);
    expect(line).toBe(`cannot listen on port ${port}: it is already in use (EADDRINUSE); stop what holds it or set PORT to a free port`);
    expect(line).not.toMatch(/\n/);
  });

  it('given the variable that set the port, then the hint names it', () => {
    const error = Object.assign(new Error('listen EADDRINUSE: address already in use :::3001'), { code: 'EADDRINUSE' });
    expect(describeListenFailure(3001, error, 'ORCHESTRATOR_PORT')).toMatch(/set ORCHESTRATOR_PORT to a free port$/);
  });

  it('given a permission error, then it names it', () => {
    const error = Object.assign(new Error('listen EACCES: permission denied 0.0.0.0:80'), { code: 'EACCES' });
    expect(describeListenFailure(80, error)).toBe('cannot listen on port 80: permission denied (EACCES); ports below 1024 need privileges');
  });

  it('given a LISTEN_HOST the machine does not have, then the line names it and says to change it', async () => {
    // 192.0.2.0/24 is TEST-NET-1 (RFC 5737): no machine has an address in it.
    const error = await new Promise<Error>((resolve) => createServer().once('error', resolve).listen(3999, '192.0.2.7'));
    expect(describeListenFailure(3999, error, 'PORT', '192.0.2.7')).toBe(
      'cannot listen on port 3999: LISTEN_HOST "192.0.2.7" is not an address of this machine (EADDRNOTAVAIL); set LISTEN_HOST to one of its addresses, or unset it for every interface',
    );
  });

  it('given anything else, then its message, still on one line', () => {
    expect(describeListenFailure(3000, new Error('boom'))).toBe('cannot listen on port 3000: boom');
  });
});
