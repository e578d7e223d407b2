import assert from 'node:assert/strict';
import { validateCreateParams } from '../../../agent/handlers/workspaceParams';
import { AgentError } from '../../../agent/errors';
import { parseContainerInspect } from '../../../agent/providers/docker/parse';
import { loginEnv, resolveRemoteEnv } from '../../../agent/workspaces/remoteEnv';
import { needsContainerEnv, sshdConfigHash, sshdConfigText } from '../../../agent/workspaces/sshd';

const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEaAlIAOWFiM2S5k6XtIb60EpQQNCjFD8D/C4tkrR5nY me@laptop';
const spec = (over: Record<string, unknown> = {}) =>
  validateCreateParams({
    spec: {
      name: 'shop',
      provider: 'docker',
      docker: { image: 'vendetta/debian:bookworm' },
      env: { APP: 'shop' },
      user: 'root',
      workspaceFolder: '/workspaces/shop',
      authorizedKeys: [key],
      ...over,
    },
  }).spec;

describe('remoteEnv: for logins and hooks only, ${containerEnv:…} resolved on the node', () => {
  it("resolves containerEnv against the container's environment, with defaults, as the reference does", () => {
    const container = { PATH: '/usr/local/bin:/usr/bin', EMPTY: '' };
    assert.deepEqual(
      resolveRemoteEnv(
        {
          PATH: '${containerEnv:PATH}:/opt/tools/bin',
          D: '${containerEnv:NOPE:fallback}',
          N: '[${containerEnv:NOPE}]',
          E: '[${containerEnv:EMPTY:x}]',
          K: '${localEnv:KEEP}',
        },
        container,
      ),
      {
        PATH: '/usr/local/bin:/usr/bin:/opt/tools/bin',
        D: 'fallback',
        N: '[]',
        E: '[]',
        K: '${localEnv:KEEP}',
      },
    );
    assert.deepEqual(loginEnv({ env: { A: '1', B: '1' }, remoteEnv: { B: '2' } }), { A: '1', B: '2' });
  });

  it("puts remoteEnv in the sshd config's SetEnv only, resolved once the container's env is known", () => {
    const s = spec({ remoteEnv: { PATH: '${containerEnv:PATH}:/x', ONLY_LOGIN: 'yes' } });
    assert.ok(needsContainerEnv(s));
    assert.ok(!needsContainerEnv(spec({ remoteEnv: { A: 'b' } })));
    const seeded = sshdConfigText(s).text;
    assert.match(seeded, /SetEnv "APP=shop" "PATH=:\/x" "ONLY_LOGIN=yes"/);
    const resolved = sshdConfigText(s, { PATH: '/usr/bin', APP: 'shop' }).text;
    assert.match(resolved, /SetEnv "APP=shop" "PATH=\/usr\/bin:\/x" "ONLY_LOGIN=yes"/);
    // The hash names the spec's config, not the container's env: a restart does not look like a change.
    assert.equal(
      sshdConfigHash(s),
      sshdConfigHash(spec({ remoteEnv: { PATH: '${containerEnv:PATH}:/x', ONLY_LOGIN: 'yes' } })),
    );
    assert.notEqual(sshdConfigHash(s), sshdConfigHash(spec({ remoteEnv: { ONLY_LOGIN: 'no' } })));
  });

  it('checks remoteEnv at the boundary like env', () => {
    assert.deepEqual(spec({ remoteEnv: { A: 'b' } }).remoteEnv, { A: 'b' });
    assert.equal(spec().remoteEnv, undefined);
    for (const [bad, pattern] of [
      [{ 'A B': 'x' }, /spec.remoteEnv: "A B" is not a valid variable name/],
      [{ A: 1 }, /spec.remoteEnv.A must be a string/],
      ['x', /spec.remoteEnv must be an object of strings/],
    ] as const)
      assert.throws(
        () => spec({ remoteEnv: bad }),
        (e: unknown) => e instanceof AgentError && e.code === 'INVALID_PARAMS' && pattern.test(e.message),
      );
  });

  it("reads the container's environment from the engine's inspect", () => {
    const ws = parseContainerInspect({
      Id: 'abc',
      State: { Status: 'created', Running: false },
      Config: { Image: 'i', Labels: {}, Env: ['PATH=/usr/bin', 'EQ=a=b', 'BARE', 7] },
    });
    assert.deepEqual(ws.env, { PATH: '/usr/bin', EQ: 'a=b' });
  });
});
