import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as AptSources from '../../../scripts/image/aptSources.mjs' with { 'resolution-mode': 'import' };

// The build scripts are plain ES modules (run by node without a build); tsx lets this CommonJS test require one.
const { debianMirror, parseAptProxy, parseDeb822, parseOneLine, pickMirror } =
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('../../../scripts/image/aptSources.mjs') as typeof AptSources;

describe('image build: the Debian mirror of the machine’s own apt sources', () => {
  let etc: string;
  beforeEach(() => {
    etc = mkdtempSync(join(tmpdir(), 'vendetta-apt-'));
    mkdirSync(join(etc, 'sources.list.d'));
  });
  afterEach(() => rmSync(etc, { recursive: true, force: true }));

  it('reads a deb822 .sources file (Debian 12’s layout): the bookworm mirror, not the security archive', () => {
    writeFileSync(
      join(etc, 'sources.list.d', 'debian.sources'),
      [
        'Types: deb',
        '# http://snapshot.debian.org/archive/debian/20250520T000000Z',
        'URIs: http://mirror.example.lan/debian',
        'Suites: bookworm bookworm-updates',
        'Components: main',
        '',
        'Types: deb',
        'URIs: http://mirror.example.lan/debian-security',
        'Suites: bookworm-security',
        'Components: main',
        '',
      ].join('\n'),
    );
    assert.deepEqual(debianMirror('bookworm', {}, etc), { mirror: 'http://mirror.example.lan/debian' });
  });

  it('reads the one-line sources.list with [options] and comments; deb-src and security lines are skipped', () => {
    writeFileSync(
      join(etc, 'sources.list'),
      [
        '# deb http://commented.example/debian bookworm main',
        'deb-src http://src.example/debian bookworm main',
        'deb http://security.debian.org/debian-security bookworm-security main',
        'deb [arch=amd64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] https://proxy.corp:8443/debian bookworm main # corp mirror',
      ].join('\n'),
    );
    assert.deepEqual(debianMirror('bookworm', {}, etc), { mirror: 'https://proxy.corp:8443/debian' });
  });

  it('reads only the files apt reads: *.list and *.sources, not disabled leftovers', () => {
    writeFileSync(join(etc, 'sources.list.d', 'old.list.disabled'), 'deb http://wrong.example/debian bookworm main\n');
    writeFileSync(
      join(etc, 'sources.list.d', 'off.sources'),
      'Enabled: no\nTypes: deb\nURIs: http://off.example/debian\nSuites: bookworm\n',
    );
    writeFileSync(join(etc, 'sources.list.d', 'local.list'), 'deb http://right.example/debian bookworm main\n');
    assert.deepEqual(debianMirror('bookworm', {}, etc), { mirror: 'http://right.example/debian' });
  });

  it('a machine on another Debian release: its mirror serves bookworm too; a third-party repository is not a mirror', () => {
    writeFileSync(
      join(etc, 'sources.list.d', 'nodesource.sources'),
      'Types: deb\nURIs: https://deb.nodesource.com/node_20.x\nSuites: nodistro\nComponents: main\n',
    );
    writeFileSync(
      join(etc, 'sources.list.d', 'debian.sources'),
      'Types: deb\nURIs: http://ftp.example.de/debian\nSuites: trixie trixie-updates\nComponents: main\n',
    );
    assert.deepEqual(debianMirror('bookworm', {}, etc), { mirror: 'http://ftp.example.de/debian' });
  });

  it('no Debian mirror anywhere: an error naming the files read and the variable that sets one; the variable wins', () => {
    writeFileSync(
      join(etc, 'sources.list.d', 'nodesource.sources'),
      'Types: deb\nURIs: https://deb.nodesource.com/node_20.x\nSuites: nodistro\n',
    );
    const r = debianMirror('bookworm', {}, etc);
    assert.ok('error' in r);
    assert.match(
      r.error,
      /no Debian mirror found in this machine's apt sources \(.*sources\.list, .*nodesource\.sources\)/,
    );
    assert.match(r.hint, /VENDETTA_DEBIAN_MIRROR/);
    assert.deepEqual(debianMirror('bookworm', { VENDETTA_DEBIAN_MIRROR: 'http://mine/debian' }, etc), {
      mirror: 'http://mine/debian',
    });
  });

  it('parses continuation lines and several URIs per stanza; the first usable one wins', () => {
    const entries = parseDeb822(
      'Types: deb deb-src\nURIs: cdrom:/media http://a.example/debian\n  http://b.example/debian\nSuites: bookworm\n',
    );
    assert.deepEqual(
      entries.filter((e) => e.type === 'deb').map((e) => e.uri),
      ['cdrom:/media', 'http://a.example/debian', 'http://b.example/debian'],
    );
    assert.equal(pickMirror(entries, 'bookworm'), 'http://a.example/debian');
    assert.deepEqual(parseOneLine('deb file:///srv/debian bookworm main'), [
      { type: 'deb', uri: 'file:///srv/debian', suites: ['bookworm'] },
    ]);
  });

  it('takes apt’s proxy for debootstrap’s wget (apt-config shell output)', () => {
    assert.deepEqual(parseAptProxy("HTTP='http://cache.lan:3142/'\nHTTPS='DIRECT'\n"), {
      http_proxy: 'http://cache.lan:3142/',
    });
    assert.deepEqual(parseAptProxy(''), {});
  });
});
