import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { osNameFromRelease, parseDfPosix, parseMeminfo, parseOsRelease } from '../../../agent/system/parsers';

const fixture = (name: string): string => readFileSync(join(__dirname, '../../fixtures/agent', name), 'utf8');

describe('agent system figures from recorded Linux output', () => {
  it('reads total and available memory from /proc/meminfo', () => {
    const mem = parseMeminfo(fixture('meminfo-debian12.txt'));
    const text = fixture('meminfo-debian12.txt');
    const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)![1]) * 1024;
    assert.deepEqual(mem, { totalBytes: kb('MemTotal'), availableBytes: kb('MemAvailable') });
    assert.ok(mem!.availableBytes > 0 && mem!.availableBytes <= mem!.totalBytes);
  });

  it('estimates available memory on kernels without MemAvailable', () => {
    const old =
      'MemTotal:        2048000 kB\nMemFree:          100000 kB\nBuffers:           20000 kB\nCached:           300000 kB\nSwapCached:            0 kB\n';
    assert.deepEqual(parseMeminfo(old), { totalBytes: 2048000 * 1024, availableBytes: 420000 * 1024 });
  });

  it('rejects text that is not meminfo', () => {
    assert.equal(parseMeminfo('hello\nworld'), undefined);
    assert.equal(parseMeminfo(''), undefined);
  });

  it('names the OS by PRETTY_NAME from /etc/os-release', () => {
    const fields = parseOsRelease(fixture('os-release-debian12.txt'));
    assert.equal(fields.ID, 'debian');
    assert.equal(fields.VERSION_ID, '12');
    assert.equal(osNameFromRelease(fields), 'Debian GNU/Linux 12 (bookworm)');
  });

  it('handles unquoted, single-quoted, escaped values and comments in os-release', () => {
    const fields = parseOsRelease(
      `# comment\nNAME=Alpine\nVERSION='3.19 edge'\nX="say \\"hi\\" \\$HOME"\n\nnot a line\n`,
    );
    assert.deepEqual(fields, { NAME: 'Alpine', VERSION: '3.19 edge', X: 'say "hi" $HOME' });
    assert.equal(osNameFromRelease(fields), 'Alpine 3.19 edge');
    assert.equal(osNameFromRelease({ NAME: 'Plain' }), 'Plain');
    assert.equal(osNameFromRelease({}), undefined);
  });

  it('reads free and total disk space from `df -Pk`', () => {
    const disk = parseDfPosix(fixture('df-pk.txt'));
    assert.deepEqual(disk, { totalBytes: 264212084 * 1024, freeBytes: 82867848 * 1024 });
    assert.deepEqual(
      parseDfPosix('Filesystem 1024-blocks Used Available Capacity Mounted on\n/dev/sdb1 100 40 60 40% /mnt/my disk\n'),
      {
        totalBytes: 100 * 1024,
        freeBytes: 60 * 1024,
      },
    );
    assert.equal(parseDfPosix('df: /nope: No such file or directory\n'), undefined);
    assert.equal(parseDfPosix('Filesystem 1024-blocks\n/dev/x abc\n'), undefined);
  });
});
