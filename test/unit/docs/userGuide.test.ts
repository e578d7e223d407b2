import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as agentProtocol from '../../../agent/protocol';
import { AgentErrorNames } from '../../../agent/protocol/errorCodes';
import * as coordinatorProtocol from '../../../coordinator/protocol';
import { ErrorCodes } from '../../../coordinator/protocol';

const REPO = join(__dirname, '..', '..', '..');
const doc = (name: string) => readFileSync(join(REPO, 'docs', name), 'utf8');

/** The codes a heading names: `### \`A\`` or `### \`A\`, \`B\``. */
function headedCodes(text: string): Set<string> {
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('### ')) continue;
    for (const m of line.matchAll(/`([A-Z_]+)`/g)) out.add(m[1]!);
  }
  return out;
}

describe('the user guide in docs/ keeps up with the code', () => {
  it('troubleshooting has an entry for every error code the coordinator and the agents can send', () => {
    const text = doc('troubleshooting.md');
    const headed = headedCodes(text);
    const missing = [...Object.keys(ErrorCodes), ...Object.values(AgentErrorNames)].filter((c) => !headed.has(c));
    assert.deepEqual(
      [...new Set(missing)],
      [],
      'add a `### `CODE`` entry to docs/troubleshooting.md: what it means and the fix',
    );
    const known = new Set<string>([...Object.keys(ErrorCodes), ...Object.values(AgentErrorNames)]);
    assert.deepEqual(
      [...headed].filter((c) => !known.has(c)),
      [],
      'an entry for a code the source no longer has',
    );
  });

  it('the config reference is what the schemas say (regenerate with `node scripts/configReference.mjs --write`)', async () => {
    // The script is the page's one writer; an .mjs module, so imported the ESM way.
    const { renderReference } = (await import(join(REPO, 'scripts', 'configReference.mjs'))) as {
      renderReference(): string;
    };
    assert.equal(doc('config-reference.md'), renderReference());
  });

  it('the config reference names every field of both schemas', () => {
    const text = doc('config-reference.md');
    const ws = JSON.parse(readFileSync(join(REPO, 'schemas', 'workspace.schema.json'), 'utf8')) as {
      properties: Record<string, unknown>;
    };
    for (const field of Object.keys(ws.properties)) assert.match(text, new RegExp(`^\\| \`${field}\` \\|`, 'm'), field);
    const nodes = JSON.parse(readFileSync(join(REPO, 'schemas', 'nodes.schema.json'), 'utf8')) as {
      definitions: { node: { properties: Record<string, unknown> } };
    };
    for (const field of Object.keys(nodes.definitions.node.properties))
      assert.match(text, new RegExp(`^\\| \`nodes\\[\\]\\.${field}\` \\|`, 'm'), field);
  });

  it('the README links every page of the guide, and every link in the guide points at a page that exists', () => {
    const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
    const pages = [
      'getting-started.md',
      'config-reference.md',
      'nodes-and-security.md',
      'troubleshooting.md',
      'migrating-from-dev-containers.md',
    ];
    for (const p of pages) assert.match(readme, new RegExp(`\\(docs/${p.replace('.', '\\.')}\\)`), p);
    for (const p of pages) {
      for (const m of doc(p).matchAll(/\]\(([a-z-]+\.md)(#[^)]*)?\)/g))
        assert.ok(pages.includes(m[1]!) || m[1] === 'architecture.md', `${p} links ${m[1]}`);
    }
  });

  it('the architecture page names only source files and folders that exist, and wire methods that do', () => {
    // `agent/ping` is a method, not a path: the two protocols' method names are told apart.
    const methods = new Set(
      [...Object.values(agentProtocol), ...Object.values(coordinatorProtocol)].flatMap((v) => {
        const m = (v as { method?: unknown } | null)?.method;
        return typeof m === 'string' ? [m] : [];
      }),
    );
    const named = [
      ...doc('architecture.md').matchAll(/`((?:agent|coordinator|common|extension|test|scripts)\/[\w./-]+)`/g),
    ];
    assert.ok(named.length > 20, 'the page names the files it speaks of');
    for (const [, path] of named)
      assert.ok(methods.has(path!) || existsSync(join(REPO, path!)), `docs/architecture.md names ${path}`);
  });
});
