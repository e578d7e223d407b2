// The Debian mirror (and proxy) this machine's apt already uses, so the image build fetches from the
// same place as `apt-get` does here: a user behind a local mirror or a proxy gets theirs.
// Reads the files apt reads: /etc/apt/sources.list and /etc/apt/sources.list.d/*.list (one-line
// format), /etc/apt/sources.list.d/*.sources (deb822). Hand-written: apt's two formats are small,
// and no npm package parses them.
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Debian's release names and aliases: an entry for any of them is a Debian archive mirror. */
const DEBIAN_SUITES = new Set([
  'buster',
  'bullseye',
  'bookworm',
  'trixie',
  'forky',
  'duke',
  'sid',
  'oldoldstable',
  'oldstable',
  'stable',
  'testing',
  'unstable',
]);

/** One `deb` entry: where, which suites. */
export function parseOneLine(text) {
  const out = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    const m = /^(deb|deb-src)\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(line);
    if (m) out.push({ type: m[1], uri: m[2], suites: [m[3]] });
  }
  return out;
}

/** deb822 stanzas (`Types:`, `URIs:`, `Suites:`, `Enabled:`), blank-line separated, `#` comments. */
export function parseDeb822(text) {
  const out = [];
  const lines = text.split('\n').filter((l) => !/^\s*#/.test(l));
  for (const stanza of lines.join('\n').split(/\n\s*\n/)) {
    const fields = new Map();
    let last;
    for (const line of stanza.split('\n')) {
      if (/^\s/.test(line) && last) fields.set(last, `${fields.get(last)} ${line.trim()}`);
      else {
        const m = /^([\w-]+):\s*(.*)$/.exec(line);
        if (m) fields.set((last = m[1].toLowerCase()), m[2].trim());
      }
    }
    if ((fields.get('enabled') ?? 'yes').toLowerCase() === 'no') continue;
    const words = (k) => (fields.get(k) ?? '').split(/\s+/).filter(Boolean);
    for (const type of words('types'))
      for (const uri of words('uris')) out.push({ type, uri, suites: words('suites') });
  }
  return out;
}

/**
 * The first mirror apt fetches `suite` from; else the first Debian mirror for any release (one
 * mirror serves them all); else undefined. Security archives are not full mirrors and are skipped.
 */
export function pickMirror(entries, suite) {
  const usable = entries.filter(
    (e) => e.type === 'deb' && /^(https?|file):\/\//.test(e.uri) && !/security/.test(e.uri),
  );
  const exact = usable.find((e) => e.suites.includes(suite));
  if (exact) return exact.uri;
  return usable.find((e) =>
    e.suites.some((s) => DEBIAN_SUITES.has(s.replace(/-(updates|backports|proposed-updates)$/, ''))),
  )?.uri;
}

/** The entries of every file apt reads, in apt's order (sources.list, then the folder sorted). */
export function readAptSources(etc = '/etc/apt') {
  const files = [join(etc, 'sources.list')];
  try {
    for (const f of readdirSync(join(etc, 'sources.list.d')).sort())
      if (/\.(list|sources)$/.test(f)) files.push(join(etc, 'sources.list.d', f));
  } catch {
    // no drop-in folder
  }
  const entries = [];
  for (const file of files) {
    let text;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    entries.push(...(file.endsWith('.sources') ? parseDeb822(text) : parseOneLine(text)));
  }
  return { files, entries };
}

/** `VENDETTA_DEBIAN_MIRROR`, else the mirror apt uses for `suite`; `{ error, hint }` when none. */
export function debianMirror(suite, env = process.env, etc = '/etc/apt') {
  if (env.VENDETTA_DEBIAN_MIRROR) return { mirror: env.VENDETTA_DEBIAN_MIRROR };
  const { files, entries } = readAptSources(etc);
  const mirror = pickMirror(entries, suite);
  if (mirror) return { mirror };
  return {
    error: `no Debian mirror found in this machine's apt sources (${files.join(', ')})`,
    hint: 'Set VENDETTA_DEBIAN_MIRROR to a Debian mirror this machine can reach (e.g. http://deb.debian.org/debian), then run again.',
  };
}

/** `apt-config shell` output (`HTTP='http://proxy:3142/'`) → the proxy settings for wget. */
export function parseAptProxy(shellOutput) {
  const env = {};
  for (const m of shellOutput.matchAll(/^(HTTP|HTTPS)='([^']*)'$/gm))
    if (m[2] && m[2] !== 'DIRECT') env[`${m[1].toLowerCase()}_proxy`] = m[2];
  return env;
}

/** The proxy apt is configured with, for debootstrap's wget, unless the environment names one. */
export function aptProxyEnv(env = process.env) {
  if (env.http_proxy || env.https_proxy) return {};
  const r = spawnSync('apt-config', ['shell', 'HTTP', 'Acquire::http::Proxy', 'HTTPS', 'Acquire::https::Proxy'], {
    encoding: 'utf8',
  });
  return r.status === 0 ? parseAptProxy(r.stdout) : {};
}
