import { join } from 'node:path';
import type { resolveSubjects } from '@app/mission';

/**
 * Preloaded into the services by `npm run bench -- --guest-data off` (`NODE_OPTIONS=--require`):
 * no mission names a data subject, so nothing is sealed and every mission is stored in plain, as
 * before encryption at rest. The same build with the same missions, with and without guest data,
 * is what measures the feature's cost per mission (docs/performance.md § 3.6). A bench control
 * only: no service setting turns encryption off.
 *
 * It replaces `resolveSubjects` on the module that defines it. The lib's index re-exports it as a
 * read-only binding to that module's export, so every caller sees the replacement; hence the path
 * into the lib (compiled: dist/libs/…, under Jest: libs/…/*.ts), which no other file may take.
 */
const DEFINING_MODULE = join(__dirname, '..', '..', 'libs', 'mission', 'src', 'data-subject');

interface DataSubjectModule {
  resolveSubjects: typeof resolveSubjects;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports -- the defining module itself, by path (see above)
const dataSubject = require(DEFINING_MODULE) as DataSubjectModule;
dataSubject.resolveSubjects = () => [];
