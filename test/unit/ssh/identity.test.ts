import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { utils } from 'ssh2';
import { VendettaError } from '../../../coordinator/errors';
import { homePaths, type HomePaths } from '../../../coordinator/home';
import { authMaterial, ensureIdentity, generateEd25519Pair } from '../../../coordinator/ssh/identity';

describe('choosing the SSH key (never a password)', () => {
  let dir: string;
  let paths: HomePaths;
  let savedSock: string | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vendetta-id-'));
    paths = homePaths(join(dir, 'home'));
    savedSock = process.env.SSH_AUTH_SOCK;
    delete process.env.SSH_AUTH_SOCK;
  });
  afterEach(() => {
    if (savedSock === undefined) delete process.env.SSH_AUTH_SOCK;
    else process.env.SSH_AUTH_SOCK = savedSock;
    rmSync(dir, { recursive: true, force: true });
  });

  const invalid = async (p: Promise<unknown>): Promise<VendettaError> => {
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof VendettaError && err.code === 'IDENTITY_INVALID', String(err));
    return err;
  };

  it('uses the key given with --identity', async () => {
    const pair = generateEd25519Pair('given');
    const file = join(dir, 'id_given');
    writeFileSync(file, pair.private, { mode: 0o600 });
    const id = await ensureIdentity(paths, file);
    assert.deepEqual(
      { ...id, publicKey: undefined },
      { privateKeyPath: file, useAgent: false, publicKey: undefined, generated: false },
    );
    assert.equal(id.publicKey, pair.public.split(' ').slice(0, 2).join(' '));
    const auth = await authMaterial(paths, file);
    assert.equal(auth.publicKeyPath, `${file}.pub`);
    assert.equal(auth.agent, undefined, 'an explicit identity is the only key offered');
  });

  it('refuses a missing file, a public key and a passphrase-protected key, saying what to do', async () => {
    await invalid(ensureIdentity(paths, join(dir, 'nope')));
    const pair = utils.generateKeyPairSync('ed25519');
    writeFileSync(join(dir, 'k.pub'), pair.public);
    await invalid(ensureIdentity(paths, join(dir, 'k.pub')));
    const locked = utils.generateKeyPairSync('ed25519', { passphrase: 'secret', cipher: 'aes256-ctr', rounds: 1 });
    writeFileSync(join(dir, 'locked'), locked.private, { mode: 0o600 });
    const err = await invalid(ensureIdentity(paths, join(dir, 'locked')));
    assert.match(err.message, /passphrase/);
    assert.match(err.hint ?? '', /ssh-add/);
  });

  describe('with an ssh-agent running', () => {
    let server: Server;
    beforeEach(async () => {
      const sock = join(dir, 'agent.sock');
      server = createServer(() => undefined);
      await new Promise<void>((r) => server.listen(sock, r));
      process.env.SSH_AUTH_SOCK = sock;
    });
    afterEach(() => new Promise<void>((r) => server.close(() => r())));

    it('uses the agent when no identity is given', async () => {
      assert.deepEqual(await ensureIdentity(paths), { useAgent: true, generated: false });
      assert.equal((await authMaterial(paths)).agent, process.env.SSH_AUTH_SOCK);
    });
  });

  it('says how to have a new key made when the one it generated earlier is unreadable', async () => {
    const first = await ensureIdentity(paths);
    writeFileSync(
      first.privateKeyPath!,
      '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n',
    );
    const err = await invalid(ensureIdentity(paths));
    const key = first.privateKeyPath!;
    assert.ok(err.hint?.includes(`delete ${key} and ${key}.pub`), err.hint);
  });

  it('ignores SSH_AUTH_SOCK pointing at nothing', async () => {
    process.env.SSH_AUTH_SOCK = join(dir, 'gone.sock');
    const id = await ensureIdentity(paths);
    assert.equal(id.useAgent, false);
    assert.equal(id.generated, true);
  });

  it('generates an ed25519 key once, 0600, and reuses it', async () => {
    await invalid(authMaterial(paths));
    const first = await ensureIdentity(paths);
    assert.equal(first.generated, true);
    assert.equal(first.privateKeyPath, join(paths.keysDir, 'id_ed25519'));
    assert.match(first.publicKey ?? '', /^ssh-ed25519 AAAA/);
    assert.equal(statSync(first.privateKeyPath!).mode & 0o777, 0o600);
    assert.equal(statSync(paths.keysDir).mode & 0o777, 0o700);
    assert.equal(readFileSync(`${first.privateKeyPath}.pub`, 'utf8').trim(), first.publicKey);
    const second = await ensureIdentity(paths);
    assert.equal(second.generated, false);
    assert.equal(second.publicKey?.split(' ').slice(0, 2).join(' '), first.publicKey?.split(' ').slice(0, 2).join(' '));
    const auth = await authMaterial(paths);
    assert.equal(auth.privateKeyPath, first.privateKeyPath);
    assert.ok(auth.privateKey && auth.privateKey.length > 0);
  });

  it('two generations at once end with one key', async () => {
    const [a, b] = await Promise.all([ensureIdentity(paths), ensureIdentity(paths)]);
    assert.equal([a, b].filter((x) => x.generated).length, 1);
    assert.equal(a.publicKey?.split(' ')[1], b.publicKey?.split(' ')[1]);
  });
});

describe('generating an ed25519 key pair', () => {
  it('makes only pairs that ssh2 reads back whole (its generator botches one in ~256)', function () {
    this.timeout(60_000);
    for (let i = 0; i < 3000; i++) {
      const pair = generateEd25519Pair('me@here');
      const priv = utils.parseKey(pair.private);
      const pub = utils.parseKey(pair.public);
      assert.ok(!(priv instanceof Error) && !(pub instanceof Error), `pair ${i}: ${String(priv)} ${String(pub)}`);
      // ssh-ed25519 blob: 4 + 11 bytes of type, 4 + 32 bytes of key.
      assert.equal((Array.isArray(pub) ? pub[0] : pub)!.getPublicSSH().length, 51);
    }
  });

  it('throws a botched pair away and makes another; gives up with a hint if it never succeeds', () => {
    const good = generateEd25519Pair('x');
    const botched = {
      private: good.private.replace(/[A-Za-z]{8}\n/, 'AAAAAAAA\n'),
      public: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAH+OwnkTVp/RpqIPt+eQWVlhs/FH0w6BQEBWnPHk96A4= x',
    };
    assert.ok(utils.parseKey(botched.public) instanceof Error, 'the stand-in is unreadable, as ssh2 makes them');
    let calls = 0;
    const flaky = (() => (++calls < 3 ? botched : good)) as unknown as typeof utils.generateKeyPairSync;
    assert.equal(generateEd25519Pair('x', flaky), good);
    assert.equal(calls, 3);
    const broken = (() => botched) as unknown as typeof utils.generateKeyPairSync;
    assert.throws(
      () => generateEd25519Pair('x', broken),
      (e: VendettaError) => e.code === 'INTERNAL' && /--identity/.test(e.hint ?? ''),
    );
  });
});
