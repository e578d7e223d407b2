import assert from 'node:assert/strict';
import { lxcConfigDirs, progressText, pullSource, remoteFrom } from '../../../agent/providers/lxc/image';

const CONFIG = `default-remote: local
remotes:
  src:
    addr: https://127.0.0.1:18444
    protocol: lxd
    public: true
  mirror:
    addr: https://mirror.example/streams
    protocol: simplestreams
  private:
    addr: https://10.0.0.5:8443
    auth_type: tls
`;

describe('LXD images from a remote the node configured', () => {
  it("reads a remote from the lxc client's config.yml, with its pinned certificate", () => {
    const certs: Record<string, string> = { src: '-----BEGIN CERTIFICATE-----\nX\n' };
    assert.deepEqual(
      remoteFrom(CONFIG, 'src', (n) => certs[n]),
      { name: 'src', addr: 'https://127.0.0.1:18444', protocol: 'lxd', public: true, certificate: certs.src },
    );
    assert.deepEqual(
      remoteFrom(CONFIG, 'mirror', () => undefined),
      { name: 'mirror', addr: 'https://mirror.example/streams', protocol: 'simplestreams', public: false },
    );
    assert.equal(remoteFrom(CONFIG, 'private', () => undefined)?.public, false);
    assert.equal(
      remoteFrom(CONFIG, 'nowhere', () => undefined),
      undefined,
    );
    assert.equal(
      remoteFrom('', 'src', () => undefined),
      undefined,
    );
  });

  it("asks LXD to pull the alias itself, with the remote's certificate", () => {
    assert.deepEqual(
      pullSource({ name: 'src', addr: 'https://h:1', protocol: 'lxd', public: true, certificate: 'PEM' }, 'debian/12'),
      { type: 'image', mode: 'pull', server: 'https://h:1', protocol: 'lxd', alias: 'debian/12', certificate: 'PEM' },
    );
  });

  it("looks in LXD_CONF first, then the snap's and the package's client config", () => {
    assert.deepEqual(lxcConfigDirs({ LXD_CONF: '/c' }, '/home/u'), [
      '/c',
      '/home/u/snap/lxd/common/config',
      '/home/u/.config/lxc',
    ]);
    assert.deepEqual(lxcConfigDirs({}, '/h'), ['/h/snap/lxd/common/config', '/h/.config/lxc']);
  });

  it("says a create operation's download and unpack progress as one line", () => {
    assert.equal(progressText({ download_progress: 'rootfs: 45% (12.30MB/s)' }), 'rootfs: 45% (12.30MB/s)');
    assert.equal(
      progressText({ download_progress: 'rootfs: 100%', create_instance_from_image_unpack_progress: 'Unpack: 30%' }),
      'rootfs: 100%, Unpack: 30%',
    );
    assert.equal(progressText({ other: 'x' }), undefined);
  });
});
