import assert from 'node:assert/strict';
import type { ForwardInfo, ServiceStatus } from '../../../coordinator/protocol';
import { attributesFor, portList, type PortsConfig } from '../../../coordinator/services/portList';

const svc = (name: string, port: number, nodePort: number | undefined, scheme?: 'tcp'): ServiceStatus => ({
  name,
  state: 'healthy',
  port,
  ...(nodePort !== undefined ? { nodePort } : {}),
  ...(scheme ? { scheme } : {}),
  restarts: 0,
});
const config: PortsConfig = {
  forwardPorts: [{ port: 8080, service: 'web' }, { port: 9229 }, { port: 5173 }],
  portsAttributes: [
    { from: 8080, to: 8080, attributes: { label: 'Web page', onAutoForward: 'openBrowser' } },
    { from: 8700, to: 8799, attributes: { label: 'Scratch servers', protocol: 'https' } },
  ],
  otherPortsAttributes: { onAutoForward: 'silent' },
};
const fwd = (port: number, localPort: number): ForwardInfo => ({
  workspace: 'w',
  node: 'n',
  port,
  nodePort: port,
  localPort,
  url: `http://127.0.0.1:${localPort}`,
});

describe('workspace ports: services, forwardPorts and detected ports merged, each once, labelled', () => {
  it('a service row wins over its forwardPorts entry and over the same port detected; each row says its source', () => {
    const rows = portList({
      services: [svc('db', 7070, 41000, 'tcp'), svc('web', 8080, 41001), svc('idle', 6000, undefined)],
      detected: [
        { port: 8080, loopbackOnly: false },
        { port: 8765, loopbackOnly: false },
        { port: 5173, loopbackOnly: true },
        { port: 7070, loopbackOnly: false },
      ],
      config,
      forwardOf: (p) => (p === 8765 ? fwd(8765, 18765) : p === 8080 ? fwd(8080, 8080) : undefined),
    });
    assert.deepEqual(
      rows.map((r) => [r.port, r.source, r.service, r.label, r.listening]),
      [
        [7070, 'service', 'db', undefined, true],
        [8080, 'service', 'web', 'Web page', true],
        [9229, 'forwardPorts', undefined, undefined, false],
        [5173, 'forwardPorts', undefined, undefined, true],
        [8765, 'detected', undefined, 'Scratch servers', true],
      ],
    );
    const [db, web, debug, vite, scratch] = rows as [(typeof rows)[0], ...typeof rows];
    assert.equal(db.url, 'tcp://127.0.0.1:41000', 'a TCP-checked service has no browser URL');
    assert.deepEqual([web!.url, web!.localPort, web!.onAutoForward], ['http://127.0.0.1:8080', 8080, 'openBrowser']);
    assert.equal(debug!.onAutoForward, 'silent', 'otherPortsAttributes for a port no rule names');
    assert.equal(vite!.loopbackOnly, true);
    assert.deepEqual(
      [scratch!.url, scratch!.localPort, scratch!.protocol],
      ['https://127.0.0.1:18765', 18765, 'https'],
      'protocol https makes the forwarded URL https',
    );
  });

  it('a stopped workspace: nothing is known to listen, forwardPorts still listed; no config: no labels', () => {
    const rows = portList({ services: [], detected: undefined, config, forwardOf: () => undefined });
    assert.deepEqual(
      rows.map((r) => [r.port, r.source, r.listening, r.service]),
      [
        [8080, 'forwardPorts', undefined, 'web'],
        [9229, 'forwardPorts', undefined, undefined],
        [5173, 'forwardPorts', undefined, undefined],
      ],
    );
    const bare = portList({
      services: [],
      detected: [{ port: 3000, loopbackOnly: false }],
      config: undefined,
      forwardOf: () => undefined,
    });
    assert.deepEqual(bare, [{ source: 'detected', port: 3000, listening: true }]);
  });

  it('the first rule whose range holds the port gives its attributes, else otherPortsAttributes', () => {
    assert.equal(attributesFor(8750, config)?.label, 'Scratch servers');
    assert.equal(attributesFor(8800, config)?.onAutoForward, 'silent');
    assert.equal(attributesFor(8800, undefined), undefined);
  });
});
