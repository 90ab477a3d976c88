import { join } from 'node:path';
import { projectSources } from '@app/testing';

describe('MESSAGE_ROUTES', () => {
  it('is where a message is routed: no source names a service stream to write a message to by the literal service name', () => {
    const all = projectSources((name) => name.endsWith('.ts') && !name.endsWith('.spec.ts'));
    const literal = all.flatMap(({ file, text }) =>
      [...text.matchAll(/\.stream\(\s*['"`]([^'"`]+)['"`]\s*\)/g)].map((match) => `${file}: stream('${match[1]}')`),
    );

    expect(all.map(({ file }) => file)).toContain(join('libs', 'mission-queue', 'src', 'ready-queue.ts'));
    expect(literal).toEqual([]);
  });
});
