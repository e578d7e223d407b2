import assert from 'node:assert/strict';
import { formatNodeList, formatNodeStatus, formatTestResult, providersText } from '../../../coordinator/cli/nodeTables';
import { formatTable } from '../../../coordinator/cli/output';
import type { NodeStatus, NodeSummary } from '../../../coordinator/protocol';
import { testPassed } from '../../../coordinator/nodes/nodeProbe';

const online: NodeSummary = {
  name: 'build-1',
  host: '10.77.0.11',
  port: 22,
  user: 'dev',
  transport: 'ssh',
  status: 'online',
  latencyMs: 1.234,
  agentVersion: '0.1.0',
  lastSeen: '2026-01-01T00:00:00.000Z',
  providers: {
    docker: { available: true, version: '24.0.5' },
    lxc: { available: false, error: 'no lxc' },
    qemu: { available: true, version: '7.2', kvm: true },
  },
};
const offline: NodeSummary = {
  name: 'far-away',
  host: 'fd00::5',
  port: 2222,
  user: 'root',
  transport: 'ssh',
  status: 'offline',
  latencyMs: null,
  agentVersion: null,
  providers: null,
  lastSeen: null,
  error: { code: 'NODE_UNREACHABLE', message: 'Cannot reach far-away', hint: 'Check the network.' },
};

describe('human output of node commands', () => {
  it('aligns columns, upper-cases headers and does not pad the last column', () => {
    const out = formatTable(
      [
        { a: 'x', b: 'long value' },
        { a: 'longer', b: 'y' },
      ],
      [
        { header: 'a', value: (r) => r.a },
        { header: 'b', value: (r) => r.b },
      ],
    );
    assert.equal(out, 'A       B\nx       long value\nlonger  y\n');
  });

  it('lists nodes with address, status, latency, agent and providers, then each problem with its hint', () => {
    const out = formatNodeList([online, offline]);
    const [header, row1, row2] = out.split('\n');
    assert.match(header!, /^NAME\s+TRANSPORT\s+ADDRESS\s+STATUS\s+LATENCY\s+AGENT\s+PROVIDERS$/);
    assert.match(
      row1!,
      /^build-1\s+ssh\s+dev@10\.77\.0\.11:22\s+online\s+1\.2 ms\s+0\.1\.0\s+docker 24\.0\.5, qemu 7\.2 \(kvm\)$/,
    );
    assert.match(row2!, /^far-away\s+ssh\s+root@\[fd00::5\]:2222\s+offline\s+-\s+-\s+-$/);
    assert.equal(header!.indexOf('STATUS'), row1!.indexOf('online'));
    assert.match(out, /\nfar-away: Cannot reach far-away\n {2}hint: Check the network\.\n$/);
  });

  it('says "none" when a node has no provider, "-" when it never answered', () => {
    assert.equal(providersText(null), '-');
    assert.equal(
      providersText({
        docker: { available: false },
        lxc: { available: false },
        qemu: { available: false, kvm: false },
      }),
      'none',
    );
  });

  it("says how an LXD node keeps the project folder's owners", () => {
    assert.equal(
      providersText({
        docker: { available: false },
        lxc: { available: true, version: '5.0.2', projectFolder: 'mapped-owner' },
        qemu: { available: false, kvm: false },
      }),
      'lxc 5.0.2 (project folder: mapped-owner)',
    );
    assert.equal(
      providersText({ docker: { available: false }, lxc: { available: true }, qemu: { available: false, kvm: false } }),
      'lxc',
    );
  });

  it('shows system figures in status', () => {
    const s: NodeStatus = {
      ...online,
      system: {
        hostname: 'b1',
        os: 'Debian 12',
        arch: 'x86_64',
        kernel: '6.1',
        cpus: 4,
        memoryTotalBytes: 8 * 1024 ** 3,
        memoryAvailableBytes: 6 * 1024 ** 3,
        diskFreeBytes: 50 * 1024 ** 3,
        diskTotalBytes: 100 * 1024 ** 3,
        load: [0.5, 0.25, 0.125],
        uptimeSeconds: 10,
        nodeVersion: 'v20',
      },
    };
    const out = formatNodeStatus([s, { ...offline, system: null }]);
    assert.match(
      out,
      /build-1\s+online\s+1\.2 ms\s+Debian 12 \(x86_64\)\s+4\s+0\.50 0\.25 0\.13\s+6\.0 GiB \/ 8\.0 GiB\s+50\.0 GiB \/ 100\.0 GiB/,
    );
  });

  it('prints one ✔/✖ line per diagnosis step, a hint under each failure, and a count', () => {
    const out = formatTestResult({
      name: 'b1',
      ok: false,
      steps: [
        { name: 'DNS + TCP', ok: true, detail: 'answered', elapsedMs: 3 },
        { name: 'SSH auth', ok: false, detail: 'refused the key', hint: 'ssh-copy-id …', elapsedMs: 120 },
      ],
    });
    assert.equal(
      out,
      '✔ DNS + TCP  answered (3.0 ms)\n✖ SSH auth   refused the key (120 ms)\n             hint: ssh-copy-id …\nb1: FAILED, 1 of 2 checks passed\n',
    );
  });
});

describe('node test verdict', () => {
  const step = (name: string, ok: boolean, optional?: boolean) => ({
    name,
    ok,
    detail: '',
    elapsedMs: 1,
    ...(optional ? { optional } : {}),
  });

  it('passes a node that lacks some providers but has one', () => {
    assert.equal(testPassed([step('agent', true), step('docker', false, true), step('lxc', true, true)]), true);
  });

  it('fails a node with no provider at all, or a failed required step', () => {
    assert.equal(testPassed([step('agent', true), step('docker', false, true), step('lxc', false, true)]), false);
    assert.equal(testPassed([step('agent', false), step('docker', true, true)]), false);
  });

  it('marks a missing provider with – and says so in the summary line', () => {
    const text = formatTestResult({ name: 'b1', ok: true, steps: [step('agent', true), step('docker', false, true)] });
    assert.match(text, /^– docker/m);
    assert.match(text, /b1: ok, 1 of 2 checks passed \(1 provider not available\)/);
  });
});
