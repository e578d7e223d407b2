import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { COMMAND, COMMAND_IDS, VIEW } from '../../../extension/commands/ids';
import { CONTEXT_VALUES } from '../../../extension/views/nodes/nodeTreeModel';

interface Contributes {
  commands: { command: string; title: string; category?: string }[];
  views: Record<string, { id: string }[]>;
  viewsContainers: { activitybar: { id: string; icon: string }[] };
  menus: Record<string, { command: string; when?: string }[]>;
}

const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as {
  contributes: Contributes;
  activationEvents: string[];
};
const contributes = pkg.contributes;

describe('the extension contributes exactly the commands it registers', () => {
  it('lists every registered command in package.json and nothing else', () => {
    const declared = contributes.commands.map((c) => c.command);
    assert.deepEqual([...declared].sort(), [...COMMAND_IDS].sort());
    assert.equal(new Set(declared).size, declared.length, 'a command is declared twice');
  });

  it('puts every command in the Vendetta category with a title', () => {
    for (const c of contributes.commands) {
      assert.equal(c.category, 'Vendetta', c.command);
      assert.ok(c.title.length > 0, c.command);
    }
  });

  it('menus name only registered commands', () => {
    const ids = new Set<string>(COMMAND_IDS);
    for (const [menu, entries] of Object.entries(contributes.menus)) {
      for (const e of entries) assert.ok(ids.has(e.command), `${menu} names ${e.command}`);
    }
  });

  it('context menus match only contextValues the tree sets', () => {
    const known = new Set<string>(CONTEXT_VALUES);
    const entries = contributes.menus['view/item/context'] ?? [];
    assert.ok(entries.length > 0);
    for (const e of entries) {
      const when = e.when ?? '';
      for (const m of when.matchAll(/viewItem == (\w+)/g)) assert.ok(known.has(m[1]!), `${e.command}: ${m[1]}`);
      for (const m of when.matchAll(/viewItem =~ \/([^/]+)\//g)) {
        const re = new RegExp(m[1]!);
        const matching = CONTEXT_VALUES.filter((v) => re.test(v));
        assert.ok(matching.length > 0, `${e.command}: /${m[1]}/ matches no contextValue`);
        // Every plain word inside the alternation is a real contextValue.
        for (const word of m[1]!
          .replace(/[\^$()]/g, '')
          .split('|')
          .filter((w) => /^[a-z]+[A-Z]\w+$/.test(w)))
          assert.ok(known.has(word), `${e.command}: ${word}`);
      }
    }
  });

  it('the Remote Nodes view is in the Vendetta activity-bar container', () => {
    const container = contributes.viewsContainers.activitybar.find((c) => c.id === VIEW.container);
    assert.ok(container, 'no Vendetta container');
    assert.deepEqual(
      contributes.views[VIEW.container]?.map((v) => v.id),
      [VIEW.nodes],
    );
    assert.ok(readFileSync(join(__dirname, '..', '..', '..', container.icon), 'utf8').includes('<svg'));
  });

  it('offers Add Node and Refresh in the view title', () => {
    const title = (contributes.menus['view/title'] ?? [])
      .filter((e) => e.when === `view == ${VIEW.nodes}`)
      .map((e) => e.command);
    assert.ok(title.includes(COMMAND.addNode));
    assert.ok(title.includes(COMMAND.refresh));
  });
});
