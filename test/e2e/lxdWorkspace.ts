/**
 * The LXD part of the e2e run (./vscodeEnv.ts): a private LXD with the cached test image, in this
 * process's own network namespace — where code-server runs, and so the coordinator its extension
 * launches and that coordinator's local agent, which reaches a workspace's SSH server and service
 * ports through the proxy devices LXD binds on that loopback. The built-in `local` node finds it
 * through LXD_DIR/LXD_CONF in the environment of every CLI run and of code-server.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { WorkspaceStatus } from '../../coordinator/protocol';
import type { CliHome } from '../integration/coordinatorHarness';
import { helloFor } from '../integration/lifecycleRun';
import { startLxd, TEST_LXD_IMAGE, type Lxd } from '../infra/lxd';
import type { E2eWorkspace } from './extensionHost/hostEnv';

export const LXC_WORKSPACE = 'hello-lxc';

export async function startE2eLxd(): Promise<{ lxd: Lxd; env: Record<string, string> }> {
  const lxd = await startLxd({ callersNetwork: true });
  return { lxd, env: { LXD_DIR: lxd.dir, LXD_CONF: lxd.env.LXD_CONF! } };
}

/** examples/hello (its three services behind health checks) as an LXC workspace on `local`. */
export async function upLxcHello(h: CliHome, env: Record<string, string>): Promise<E2eWorkspace> {
  const project = helloFor(join(h.dir, 'lxc'), `provider: lxc\nlxc:\n  image: ${TEST_LXD_IMAGE}\n`, (text) =>
    text.replace(/^name: hello$/m, `name: ${LXC_WORKSPACE}`),
  );
  const up = await h.run(['workspace', 'up', project, '--node', 'local'], { timeoutMs: 240_000, env });
  assert.equal(up.code, 0, `workspace up ${LXC_WORKSPACE} (lxc on local): ${up.stderr}`);
  const st = await h.run(['workspace', 'status', LXC_WORKSPACE, '--json'], { env });
  assert.equal(st.code, 0, `workspace status ${LXC_WORKSPACE}: ${st.stderr}`);
  const ws = JSON.parse(st.stdout) as WorkspaceStatus;
  assert.equal(ws.provider, 'lxc', `${LXC_WORKSPACE} runs on ${ws.provider}`);
  return { name: ws.name, node: ws.node, services: ['db', 'api', 'web'] };
}
