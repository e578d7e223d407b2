// Every method of both wire contracts follows one pattern: requests `noun/verb`, notifications
// `noun/didVerb` (docs/architecture.md "The two contracts on the wire").
import assert from 'node:assert/strict';
import { NotificationType, RequestType, RequestType0 } from 'vscode-jsonrpc';
import * as agent from '../../agent/protocol';
import * as coordinator from '../../coordinator/protocol';

/** The verbs a request may start with; a new one is added here on purpose, not by accident. */
const VERBS = [
  'add',
  'apply',
  'create',
  'detect',
  'forward',
  'hold',
  'inspect',
  'list',
  'log',
  'open',
  'ping',
  'prepare',
  'probe',
  'read',
  'remove',
  'resolve',
  'run',
  'scan',
  'shutdown',
  'start',
  'stop',
  'test',
  'unfollow',
  'unforward',
  'up',
];

function methodsOf(mod: Record<string, unknown>): { requests: string[]; notifications: string[] } {
  const requests: string[] = [];
  const notifications: string[] = [];
  for (const v of Object.values(mod)) {
    if (v instanceof RequestType || v instanceof RequestType0) requests.push(v.method);
    else if (v instanceof NotificationType) notifications.push(v.method);
  }
  return { requests, notifications };
}

/** `workspaces/syncRead` → `read`: a sync step is named by what it does to the sync. */
function verbOf(method: string): string {
  const action = method.split('/')[1]!.replace(/^sync([A-Z])/, (_, c: string) => c.toLowerCase());
  return action.replace(/[A-Z].*$/, '');
}

describe('wire method names', () => {
  for (const [side, mod] of [
    ['agent', agent],
    ['coordinator', coordinator],
  ] as const) {
    const { requests, notifications } = methodsOf(mod);

    it(`${side}: requests are noun/verb`, () => {
      assert.ok(requests.length > 10, requests.join());
      for (const m of requests) {
        if (m === 'initialize') continue; // JSON-RPC's usual handshake, the same in every version
        assert.match(m, /^[a-z]+\/[a-z][a-zA-Z]*$/, m);
        assert.ok(VERBS.includes(verbOf(m)), `${m}: "${verbOf(m)}" is not a verb of the protocol`);
      }
    });

    it(`${side}: notifications are noun/didVerb`, () => {
      assert.ok(notifications.length > 3, notifications.join());
      for (const m of notifications) assert.match(m, /^[a-z]+\/did[A-Z][a-zA-Z]*$/, m);
    });
  }

  it('a request both sides answer has one name (the coordinator passes it on under the agent verb)', () => {
    const a = methodsOf(agent);
    const c = methodsOf(coordinator);
    for (const m of ['services/list', 'services/start', 'services/stop', 'services/readLogs', 'services/unfollow']) {
      assert.ok(a.requests.includes(m) && c.requests.includes(m), m);
    }
    for (const m of ['services/didLog', 'services/didChange', 'ports/didChange', 'progress/didReport']) {
      assert.ok(a.notifications.includes(m) && c.notifications.includes(m), m);
    }
  });
});
