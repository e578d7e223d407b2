import assert from 'node:assert/strict';
import { type NodesFile, hasErrors, serializeNodesFile, validateNodesText } from '../../../coordinator/config';

const one = (fields: string) => `nodes:\n  - name: n1\n${fields}`;
const codes = (text: string) =>
  validateNodesText(text, 'nodes.yaml')
    .diagnostics.filter((d) => d.severity === 'error')
    .map((d) => d.code);

describe('nodes.yaml', () => {
  it('refuses hosts that could become ssh options or shell syntax', () => {
    const hostile = [
      '-oProxyCommand=id',
      '-p',
      'a b',
      'a;b',
      '$(id)',
      '`id`',
      'a|b',
      'a&b',
      'a>b',
      "a'b",
      'a"b',
      'a\\b',
      'a\tb',
      'h'.repeat(254),
      '',
    ];
    for (const host of hostile) {
      const errors = codes(one(`    host: ${JSON.stringify(host)}\n`));
      assert.ok(errors.length > 0, `accepted host ${JSON.stringify(host)}`);
    }
  });

  it('takes a node-wide idleTimeout (a duration) and keeps it when the file is written back', () => {
    const r = validateNodesText(one('    host: h\n    idleTimeout: 1h\n'), 'nodes.yaml');
    assert.equal(r.nodes?.nodes[0]?.idleTimeout, '1h');
    assert.match(serializeNodesFile(r.nodes!), /idleTimeout: 1h/);
    assert.ok(codes(one('    host: h\n    idleTimeout: soon\n')).length > 0);
  });

  it('accepts host names, IPv4 and IPv6 addresses', () => {
    for (const host of [
      'example.com',
      'build-1',
      'my_host.local',
      '10.0.0.5',
      'fd00::5',
      '[fd00::5]',
      'fe80::1%eth0',
    ]) {
      assert.deepEqual(codes(one(`    host: ${JSON.stringify(host)}\n`)), [], host);
    }
  });

  it('refuses names that are not safe identifiers', () => {
    for (const name of ['../x', 'a;b', 'A', 'Build-1', '-a', '', 'a'.repeat(64), 'a b', 'a.b', 'a/b']) {
      const r = validateNodesText(`nodes:\n  - name: ${JSON.stringify(name)}\n    host: h\n`, 'nodes.yaml');
      assert.deepEqual(
        r.diagnostics.map((d) => [d.code, d.line, d.col]),
        [['bad-name', 2, 11]],
        name,
      );
    }
  });

  it('keeps `local` for the built-in node', () => {
    assert.deepEqual(codes('nodes:\n  - name: local\n    transport: local\n'), ['reserved-name']);
  });

  it('needs a host unless the transport is local', () => {
    assert.deepEqual(codes('nodes:\n  - name: a\n'), ['schema']);
    assert.deepEqual(codes('nodes:\n  - name: a\n    transport: local\n'), []);
  });

  it('treats an empty or comment-only file, and `nodes:` with nothing under it, as no nodes', () => {
    for (const text of ['', '\n', '# nothing yet\n', 'nodes:\n', 'nodes: []\n']) {
      assert.deepEqual(
        validateNodesText(text, 'nodes.yaml'),
        { nodes: { nodes: [] }, diagnostics: [] },
        JSON.stringify(text),
      );
    }
  });

  it('writes a file that reads back to the same entries, with a header comment', () => {
    const file: NodesFile = {
      nodes: [
        {
          name: 'build-1',
          host: '10.0.0.5',
          port: 2222,
          user: 'dev',
          identity: '/home/dev/.vendetta/keys/id_ed25519',
          hostKey: 'SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8',
          transport: 'ssh',
          labels: { zone: 'lab', count: '3', yes: 'no' },
        },
        { name: 'v6', host: 'fd00::5' },
        { name: 'here', host: '127.0.0.1', transport: 'local' },
      ],
    };
    const text = serializeNodesFile(file);
    assert.match(text, /^# /);
    const back = validateNodesText(text, 'nodes.yaml');
    assert.deepEqual(back.diagnostics, []);
    assert.deepEqual(back.nodes, file);
    // Fixed key order, so a rewrite of the file changes only what changed.
    assert.ok(
      text.indexOf('name: build-1') < text.indexOf('host: 10.0.0.5') &&
        text.indexOf('host: 10.0.0.5') < text.indexOf('port: 2222'),
    );
  });

  it('writes an empty registry that reads back empty', () => {
    const back = validateNodesText(serializeNodesFile({ nodes: [] }), 'nodes.yaml');
    assert.deepEqual(back, { nodes: { nodes: [] }, diagnostics: [] });
  });

  it('reports a duplicate name at the second entry, naming the line of the first', () => {
    const r = validateNodesText(
      'nodes:\n  - {name: a, host: h1}\n  - {name: b, host: h2}\n  - {name: a, host: h3}\n',
      'nodes.yaml',
    );
    assert.ok(hasErrors(r.diagnostics));
    assert.deepEqual(
      r.diagnostics.map((d) => [d.line, d.message]),
      [[4, 'node `a` is listed twice (first on line 2)']],
    );
  });
});
