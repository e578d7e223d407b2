import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { containerEventsCall } from '../../../agent/providers/docker/api';
import { pathWithQuery } from '../../../agent/providers/docker/engine';
import { InspectCache, LineSplitter, parseContainerEvent } from '../../../agent/providers/docker/inspectCache';
import { parseContainerInspect } from '../../../agent/providers/docker/parse';

const fixtures = join(__dirname, '../../fixtures/agent');
const running = parseContainerInspect(
  JSON.parse(readFileSync(join(fixtures, 'docker-container-inspect-running.json'), 'utf8')),
);
const events = readFileSync(join(fixtures, 'docker-container-events.jsonl'));

describe('the docker provider remembers running containers only while the engine event stream vouches for them', () => {
  it('asks the engine for the container events that change a workspace container, ours only', () => {
    const path = pathWithQuery(containerEventsCall());
    const filters = JSON.parse(new URLSearchParams(path.split('?')[1]).get('filters')!) as Record<string, string[]>;
    assert.ok(path.startsWith('/events?'));
    assert.deepEqual(filters.type, ['container']);
    assert.deepEqual(filters.label, ['dev.vendetta.workspace']);
    for (const e of ['start', 'stop', 'die', 'kill', 'pause', 'destroy', 'restart'])
      assert.ok(filters.event!.includes(e), e);
  });

  it('reads the events of a docker stop, split across chunks anywhere, and ignores what is not a container event', () => {
    const seen: string[] = [];
    const lines = new LineSplitter((l) => {
      const e = parseContainerEvent(l);
      if (e) seen.push(`${e.action} ${e.id.slice(0, 12)} ${e.name ?? '-'}`);
    });
    for (let i = 0; i < events.length; i += 7) lines.push(events.subarray(i, i + 7));
    lines.push(
      'not json\n{"Type":"network","Action":"connect","Actor":{"ID":"n1"}}\n[1]\n{"Type":"container","Actor":{}}\n',
    );
    assert.deepEqual(seen, [
      'kill 4e2a5d1b9930 vendetta-api',
      'die 4e2a5d1b9930 vendetta-api',
      'stop 4e2a5d1b9930 vendetta-api',
    ]);
  });

  it('serves a remembered running inspect only while subscribed, and drops it on an event of its container', () => {
    const cache = new InspectCache();
    cache.remember(running.providerId, running, cache.begin());
    assert.equal(cache.get(running.providerId), undefined, 'nothing is remembered before the stream is subscribed');
    cache.up();
    cache.remember(running.providerId, running, cache.begin());
    cache.remember('vendetta-api', running, cache.begin());
    assert.equal(cache.get(running.providerId)?.publishedPorts?.['22'], 32775);
    cache.event(parseContainerEvent(events.toString().split('\n')[1]!)!);
    assert.equal(cache.get(running.providerId), undefined, 'die drops the entry under its id');
    assert.equal(cache.get('vendetta-api'), undefined, 'and under its name');
  });

  it('drops an event by a short id, ignores other containers, and serves nothing once the stream is down', () => {
    const cache = new InspectCache();
    cache.up();
    cache.remember(running.providerId, running, cache.begin());
    cache.event({ action: 'die', id: 'ffffffffffff' });
    assert.ok(cache.get(running.providerId), 'another container changed');
    cache.forget(running.providerId.slice(0, 12));
    assert.equal(cache.get(running.providerId), undefined);
    cache.remember(running.providerId, running, cache.begin());
    cache.down();
    assert.equal(cache.get(running.providerId), undefined);
    cache.up();
    assert.equal(cache.get(running.providerId), undefined, 'what was seen before the stream broke is gone');
  });

  it('does not remember an inspect that raced an event, nor a container that is not running', () => {
    const cache = new InspectCache();
    cache.up();
    const began = cache.begin();
    cache.event({ action: 'stop', id: running.providerId });
    cache.remember(running.providerId, running, began);
    assert.equal(cache.get(running.providerId), undefined);
    cache.remember(running.providerId, { ...running, state: 'stopped' }, cache.begin());
    assert.equal(cache.get(running.providerId), undefined);
    assert.equal(cache.trusted, true);
  });
});
