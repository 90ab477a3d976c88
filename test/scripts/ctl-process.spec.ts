import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { waitFor } from '@app/testing';
import { ensureBuilt } from '../../scripts/build-stamp';

const ROOT = path.resolve(__dirname, '../..');

/** `node dist/scripts/ctl.js <args>` against the API `server` serves: its exit code and signal, and what it wrote to stderr. */
function runCtl(args: string[], server: Server) {
  const child = spawn(process.execPath, [path.join(ROOT, 'dist/scripts/ctl.js'), ...args], {
    cwd: ROOT,
    env: { ...process.env, BRAIN_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, BRAIN_API_KEY: 'test-key' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return { child, exited: once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>, stderr: () => stderr };
}

/**
 * `node dist/scripts/ctl.js <args> | <reader>` in bash, a real pipe, exiting with the ctl's own code,
 * against the API `server` serves; what the ctl writes to stdout goes to the reader.
 */
async function runCtlPipedInto(reader: string, args: string[], server: Server): Promise<{ code: number | null; stderr: string }> {
  const child = spawn('bash', ['-c', `"$CTL_NODE" dist/scripts/ctl.js "$@" | ${reader}; exit "\${PIPESTATUS[0]}"`, 'ctl', ...args], {
    cwd: ROOT,
    env: { ...process.env, CTL_NODE: process.execPath, BRAIN_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, BRAIN_API_KEY: 'test-key' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stderr };
}

/** The ctl as a process, from dist/ (built here when stale): how a signal reaches it under `npm run ctl`. */
describe('npm run ctl as a process', () => {
  beforeAll(() => {
    expect(ensureBuilt(ROOT)).toBe(0);
  }, 180_000);

  it('given missions watch, when one Ctrl-C arrives twice (the terminal’s and npm’s copy), then it ends as done (exit 0), not killed (130)', async () => {
    let streams = 0;
    let sendCopy: () => void = () => undefined;
    const intake = createServer((request, response) => {
      streams += 1;
      response.writeHead(200, { 'content-type': 'text/event-stream' }).write('event: connected\ndata: 1-0\n\n');
      // npm's copy comes once the first has been handled (the watch has let go of its stream): two
      // signals sent at once would be one, as the kernel merges a signal already pending.
      request.on('close', () => sendCopy());
    });
    await new Promise<void>((resolve) => intake.listen(0, '127.0.0.1', resolve));
    try {
      const { child, exited, stderr } = runCtl(['missions', 'watch'], intake);
      await waitFor(async () => streams > 0, { timeoutMs: 15_000, what: 'watch to open the stream' });
      sendCopy = () => child.kill('SIGINT');
      child.kill('SIGINT');
      // It was killed by the copy: 130 under npm, a SIGINT death here.
      expect(await exited).toEqual([0, null]);
      expect(stderr()).toBe('');
    } finally {
      intake.closeAllConnections();
      await new Promise((resolve) => intake.close(resolve));
    }
  }, 30_000);

  it('given output larger than a pipe holds, piped into a reader that exits without reading, then it ends quietly with exit 0', async () => {
    // A page of 200 missions with long titles: far above the 64 KiB a pipe buffers.
    const mission = (i: number) => ({ id: `0196a1b2-3c4d-7e5f-8a9b-${String(i).padStart(12, '0')}`, title: 'x'.repeat(1_000), status: 'queued' });
    const intake = createServer((_request, response) => {
      response
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ items: Array.from({ length: 200 }, (_, i) => mission(i)), nextCursor: null }));
    });
    await new Promise<void>((resolve) => intake.listen(0, '127.0.0.1', resolve));
    try {
      // It crashed with an unhandled 'error' event's stack (write EPIPE) and exit 1, "the API refused it".
      expect(await runCtlPipedInto('true', ['--json', 'missions', 'list', '--limit', '200'], intake)).toEqual({ code: 0, stderr: '' });
    } finally {
      intake.closeAllConnections();
      await new Promise((resolve) => intake.close(resolve));
    }
  }, 30_000);

  it('given a command that does not listen for Ctrl-C, waiting on an API that does not answer, then one Ctrl-C ends it at once as interrupted (130)', async () => {
    let asked = 0;
    const hung = createServer(() => {
      asked += 1;
    });
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
    try {
      const { child, exited } = runCtl(['queue', 'stats'], hung);
      await waitFor(async () => asked > 0, { timeoutMs: 15_000, what: 'the ctl to ask the API' });
      child.kill('SIGINT');
      // It waited for a second Ctrl-C: the first only aborted a signal no command of its kind reads.
      expect(await exited).toEqual([130, null]);
    } finally {
      hung.closeAllConnections();
      await new Promise((resolve) => hung.close(resolve));
    }
  }, 30_000);
});
