import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GuestDataError, GuestDataErrorCode, MASTER_KEY_REMEDY } from './guest-data-error';
import { masterKeyFromSecret, MasterKeyRing } from './master-key-ring';
import { LOCAL_DATA_KEY_FILE, loadMasterKeys } from './master-key-source';

const secret = () => randomBytes(32).toString('base64url');
const settings = { DATA_KEY_SECRET: '', DATA_KEY_FILE: '', DATA_KEY_PREVIOUS_SECRETS: '', DATA_KEY_PREVIOUS_FILES: '' };

describe('master keys', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'brain-master-key-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('given a data key wrapped and unwrapped with the same ring, then it is the same key, and the record names the master key', () => {
    const ring = MasterKeyRing.fromSecrets(secret());
    const dataKey = randomBytes(32);
    const wrapped = ring.wrap('guest:anna', 'k1', dataKey);
    expect(wrapped.mk).toBe(ring.current.id);
    expect(ring.unwrap('guest:anna', 'k1', wrapped).equals(dataKey)).toBe(true);
  });

  it('given a key wrapped under another master key, when unwrapped, then a clear wrong-master-key error naming both ids and the variable, never the subject', () => {
    const wrapped = MasterKeyRing.fromSecrets(secret()).wrap('guest:tara-16', 'k1', randomBytes(32));
    const other = MasterKeyRing.fromSecrets(secret());
    try {
      other.unwrap('guest:tara-16', 'k1', wrapped);
      throw new Error('expected an error');
    } catch (error) {
      expect(error).toBeInstanceOf(GuestDataError);
      expect((error as GuestDataError).code).toBe(GuestDataErrorCode.WrongMasterKey);
      // The executor stores it as the attempt's error, which the DLQ, the mission and webhook bodies carry outside.
      expect((error as GuestDataError).message).toBe(
        `a data subject's data key is wrapped under master key ${wrapped.mk}, which is not configured (configured: ${other.current.id}); ${MASTER_KEY_REMEDY}`,
      );
    }
  });

  it('given a wrapped key altered, or copied to another subject, when unwrapped, then the tampered error', () => {
    const ring = MasterKeyRing.fromSecrets(secret());
    const wrapped = ring.wrap('guest:anna', 'k1', randomBytes(32));
    const raw = Buffer.from(wrapped.wrapped, 'base64url');
    raw[20] ^= 1;
    expect(() => ring.unwrap('guest:anna', 'k1', { ...wrapped, wrapped: raw.toString('base64url') })).toThrow(/fails authentication/);
    expect(() => ring.unwrap('guest:bob', 'k1', wrapped)).toThrow(/fails authentication/);
  });

  it('given a rotation, then the previous key still unwraps and new keys are wrapped under the current one', () => {
    const old = secret();
    const before = MasterKeyRing.fromSecrets(old).wrap('guest:anna', 'k1', Buffer.alloc(32, 7));
    const rotated = MasterKeyRing.fromSecrets(secret(), [old]);
    expect(rotated.unwrap('guest:anna', 'k1', before).equals(Buffer.alloc(32, 7))).toBe(true);
    expect(rotated.wrap('guest:anna', 'k2', Buffer.alloc(32)).mk).toBe(rotated.current.id);
    expect(rotated.ids).toEqual([rotated.current.id, masterKeyFromSecret(old).id]);
  });

  it('given a secret shorter than 32 characters, then it is refused clearly', () => {
    expect(() => masterKeyFromSecret('short')).toThrow(/at least 32 characters/);
  });

  // The ring's refusal named no variable: which of four to mend was left to guess.
  it('given a too short secret in any of the variables, then the refusal names the variable (and the file)', () => {
    writeFileSync(join(dir, 'short'), 'short', { mode: 0o600 });
    const file = join(dir, 'short');
    expect(() => loadMasterKeys({ ...settings, DATA_KEY_SECRET: 'short' }, dir)).toThrow(
      /^DATA_KEY_SECRET holds a master key secret of fewer than 32 characters$/,
    );
    expect(() => loadMasterKeys({ ...settings, DATA_KEY_FILE: file }, dir)).toThrow(`DATA_KEY_FILE ("${file}") holds`);
    expect(() => loadMasterKeys({ ...settings, DATA_KEY_SECRET: secret(), DATA_KEY_PREVIOUS_SECRETS: `${secret()},short` }, dir)).toThrow(
      /^DATA_KEY_PREVIOUS_SECRETS holds/,
    );
    expect(() => loadMasterKeys({ ...settings, DATA_KEY_SECRET: secret(), DATA_KEY_PREVIOUS_FILES: file }, dir)).toThrow(
      `DATA_KEY_PREVIOUS_FILES entry 1 ("${file}") holds`,
    );
    // The read narrowed the mode before the length was checked: a refused file is left as it was.
    writeFileSync(join(dir, 'loose-short'), 'short', { mode: 0o644 });
    expect(() => loadMasterKeys({ ...settings, DATA_KEY_FILE: join(dir, 'loose-short') }, dir)).toThrow(`DATA_KEY_FILE ("${join(dir, 'loose-short')}") holds`);
    expect(statSync(join(dir, 'loose-short')).mode & 0o777).toBe(0o644);
  });

  // The tools said Node's words alone ("EISDIR: illegal operation on a directory, read"), naming neither.
  it('given a key file that cannot be read (a directory) or is missing, when the master keys are loaded, then the refusal names the file and the variable', () => {
    expect(() => loadMasterKeys({ ...settings, DATA_KEY_FILE: dir }, dir)).toThrow(new RegExp(`^DATA_KEY_FILE \\("${dir}"\\): not a regular file$`));
    const missing = join(dir, 'missing');
    expect(() => loadMasterKeys({ ...settings, DATA_KEY_SECRET: secret(), DATA_KEY_PREVIOUS_FILES: missing }, dir)).toThrow(
      `DATA_KEY_PREVIOUS_FILES entry 1 ("${missing}"): does not exist`,
    );
  });

  // The command-line tools read DATA_KEY_SECRET without the services' check: 33 blanks were a master key.
  it('given a DATA_KEY_SECRET of blanks only, when the master keys are loaded, then it is refused', () => {
    expect(() => loadMasterKeys({ ...settings, DATA_KEY_SECRET: ' '.repeat(33) }, dir)).toThrow(/^DATA_KEY_SECRET holds a master key secret of blanks only$/);
  });

  // DATA_KEY_SECRET won silently, while every service refuses the pair: a tool could rewrap under a key the services do not use.
  it('given both DATA_KEY_SECRET and DATA_KEY_FILE, when the master keys are loaded, then they are refused as the services refuse them', () => {
    const file = join(dir, 'current');
    writeFileSync(file, secret(), { mode: 0o600 });
    expect(() => loadMasterKeys({ ...settings, DATA_KEY_SECRET: secret(), DATA_KEY_FILE: file }, dir)).toThrow(
      'set DATA_KEY_SECRET or DATA_KEY_FILE, not both',
    );
  });

  it('given DATA_KEY_FILE and previous files, then the ring is read from them', () => {
    const current = secret();
    const previous = secret();
    writeFileSync(join(dir, 'current'), `${current}\n`, { mode: 0o600 });
    writeFileSync(join(dir, 'previous'), previous, { mode: 0o600 });
    const { ring, generatedFile } = loadMasterKeys({ ...settings, DATA_KEY_FILE: join(dir, 'current'), DATA_KEY_PREVIOUS_FILES: join(dir, 'previous') }, dir);
    expect(generatedFile).toBeUndefined();
    expect(ring.current.id).toBe(masterKeyFromSecret(current).id);
    expect(ring.has(masterKeyFromSecret(previous).id)).toBe(true);
  });

  it('given no key configured, then the first load generates the local key file (0600) and every later load uses that key', () => {
    const loads = Array.from({ length: 4 }, () => loadMasterKeys(settings, join(dir, 'data')));
    const file = join(dir, 'data', LOCAL_DATA_KEY_FILE);
    expect(new Set(loads.map((load) => load.ring.current.id)).size).toBe(1);
    expect(loads.map((load) => load.generatedFile)).toEqual([file, undefined, undefined, undefined]);
    expect(readFileSync(file, 'utf8').trim().length).toBeGreaterThanOrEqual(32);
    expect(statSync(file).mode & 0o077).toBe(0);
  });

  it('given a secret sealed for an owner, then it opens under that ring (or one holding its key as previous), for that owner only, and never as a data key', () => {
    const oldSecret = secret();
    const ring = MasterKeyRing.fromSecrets(oldSecret);
    const plain = Buffer.from('whsec_c2VjcmV0', 'utf8');
    const sealed = ring.seal('webhook signing secret', 'wh_1', plain);
    expect(sealed.mk).toBe(ring.current.id);
    expect(Buffer.from(sealed.sealed, 'base64url').includes(plain)).toBe(false);
    expect(ring.open('webhook signing secret', 'wh_1', sealed).equals(plain)).toBe(true);
    expect(MasterKeyRing.fromSecrets(secret(), [oldSecret]).open('webhook signing secret', 'wh_1', sealed).equals(plain)).toBe(true);
    expect(() => ring.open('webhook signing secret', 'wh_2', sealed)).toThrow(expect.objectContaining({ code: GuestDataErrorCode.Tampered }));
    expect(() => ring.open('other purpose', 'wh_1', sealed)).toThrow(expect.objectContaining({ code: GuestDataErrorCode.Tampered }));
    const other = MasterKeyRing.fromSecrets(secret());
    expect(() => other.open('webhook signing secret', 'wh_1', sealed)).toThrow(
      `the webhook signing secret of wh_1 is wrapped under master key ${ring.current.id}, which is not configured (configured: ${other.current.id})`,
    );
    // A 32-byte secret sealed cannot be passed off as a wrapped data key, nor the other way round.
    const key = randomBytes(32);
    const asSecret = ring.seal('kid', 'guest:1', key);
    expect(() => ring.unwrap('guest:1', 'kid', { wrapped: asSecret.sealed, mk: asSecret.mk })).toThrow(
      expect.objectContaining({ code: GuestDataErrorCode.Tampered }),
    );
    const wrapped = ring.wrap('guest:1', 'kid', key);
    expect(() => ring.open('guest:1', 'kid', { sealed: wrapped.wrapped, mk: wrapped.mk })).toThrow(
      expect.objectContaining({ code: GuestDataErrorCode.Tampered }),
    );
  });

  it('given a local key file that holds too short a key, then it is refused rather than replaced', () => {
    writeFileSync(join(dir, LOCAL_DATA_KEY_FILE), 'short', { mode: 0o600 });
    expect(() => loadMasterKeys(settings, dir)).toThrow(/does not hold a master key/);
  });
});
