import assert from 'node:assert/strict';
import {
  resolveWorkspaceConfig,
  validateDevcontainerText,
  validateWorkspaceConfigText,
} from '../../../coordinator/config';

const SERVICES = `services:
  web: { command: node web.mjs, port: 8080 }
`;

describe('forwardPorts and portsAttributes in the config', () => {
  it('resolves both forwardPorts forms and the attribute rules in file order', () => {
    const r = validateWorkspaceConfigText(
      `name: shop
${SERVICES}forwardPorts: [9229, "web:8080"]
portsAttributes:
  "8080": { label: Web page, onAutoForward: openBrowser }
  "5000-5010": { label: Scratch, protocol: https }
otherPortsAttributes: { onAutoForward: ignore }
`,
      'c.yaml',
    );
    assert.deepEqual(r.diagnostics, []);
    const c = resolveWorkspaceConfig(r.config!);
    assert.deepEqual(c.forwardPorts, [{ port: 9229 }, { port: 8080, service: 'web' }]);
    assert.deepEqual(c.portsAttributes, [
      { from: 8080, to: 8080, attributes: { label: 'Web page', onAutoForward: 'openBrowser' } },
      { from: 5000, to: 5010, attributes: { label: 'Scratch', protocol: 'https' } },
    ]);
    assert.deepEqual(c.otherPortsAttributes, { onAutoForward: 'ignore' });
  });

  it('refuses a service:port naming no service, a range running downwards, an unknown onAutoForward, each at its line', () => {
    const r = validateWorkspaceConfigText(
      `name: shop
${SERVICES}forwardPorts: ["wbe:8080"]
portsAttributes:
  "5010-5000": { label: x }
  "3000": { onAutoForward: shout }
`,
      'c.yaml',
    );
    assert.deepEqual(
      r.diagnostics.map((d) => [d.line, d.code, d.severity]),
      [
        [4, 'forward-port-service', 'error'],
        [6, 'schema', 'error'],
        [7, 'schema', 'error'],
      ],
      JSON.stringify(r.diagnostics),
    );
    assert.match(r.diagnostics[0]!.message, /names `wbe`, which is not a service in this file; did you mean `web`\?/);
    assert.match(r.diagnostics[1]!.message, /`5010-5000` is not a port \(1-65535\) or a range/);
  });

  it('devcontainer.json: label, onAutoForward and protocol are taken, another attribute is named in a warning', () => {
    const r = validateDevcontainerText(
      `{
  "image": "i",
  "forwardPorts": [3000],
  "portsAttributes": { "3000": { "label": "App", "onAutoForward": "notify", "requireLocalPort": true } },
  "otherPortsAttributes": { "onAutoForward": "silent" }
}`,
      'devcontainer.json',
      'p',
    );
    assert.deepEqual(
      r.diagnostics.map((d) => [d.severity, d.code, d.line]),
      [['warning', 'unsupported', 4]],
    );
    assert.match(r.diagnostics[0]!.message, /portsAttributes\.3000\.requireLocalPort` is not honoured/);
    const c = resolveWorkspaceConfig(r.config!);
    assert.deepEqual(c.forwardPorts, [{ port: 3000 }]);
    assert.deepEqual(c.portsAttributes, [
      { from: 3000, to: 3000, attributes: { label: 'App', onAutoForward: 'notify' } },
    ]);
    assert.deepEqual(c.otherPortsAttributes, { onAutoForward: 'silent' });
  });

  it('devcontainer.json: forwards "localhost:N" as N; another "host:N" is named in a warning that says how to get it', () => {
    const r = validateDevcontainerText(
      `{
  "image": "i",
  "forwardPorts": [3000, "localhost:8080", "db:5432", "LocalHost:9229", "no port", "localhost:70000"]
}`,
      'devcontainer.json',
      'p',
    );
    const shown = r.diagnostics.map((d) => [d.severity, d.line, d.col, d.message]);
    assert.deepEqual(shown, [
      [
        'warning',
        3,
        44,
        '`forwardPorts` entry "db:5432" names `db`, another container (a Docker Compose service); a Vendetta workspace has no other containers, so it is ignored',
      ],
      ['warning', 3, 73, '`forwardPorts` entry "no port" is not a port number or "host:port"; it is ignored'],
      ['error', 3, 84, '`forwardPorts[3]` must be between 1 and 65535, not 70000'],
    ]);
    assert.match(r.diagnostics[0]!.hint!, /services: \{ db: \{ command: …, port: 5432 \} \}.*"db:5432".*or list 5432/);
    const fixed = validateDevcontainerText(
      '{"image": "i", "forwardPorts": [3000, "localhost:8080", "db:5432", "LocalHost:9229"]}',
      'devcontainer.json',
      'p',
    );
    assert.deepEqual(resolveWorkspaceConfig(fixed.config!).forwardPorts, [
      { port: 3000 },
      { port: 8080 },
      { port: 9229 },
    ]);
  });
});
