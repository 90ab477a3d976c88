import { flatDoc } from '../support/docs-text';

describe('the guest data docs', () => {
  // They said such a create made its new subject's key, so GET listed none and DELETE destroyed it; both answer 404 since f3394fb.
  it('given a create refused because its idempotency key names a mission that exists, then the docs say it makes no key and the subject is unknown', () => {
    const operations = flatDoc('docs/operations.md');
    expect(operations).not.toContain("has made its subject's key already");
    expect(operations).toContain('after the 422 a subject only it named has no key and no missions, and `GET` and `DELETE /api/subjects/<it>` answer 404');
  });
});
