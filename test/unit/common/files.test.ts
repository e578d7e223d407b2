import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileSize, readTextIfExists } from '../../../common/fs/files';

describe('reading files that may not be there yet', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'vendetta-files-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a missing file as absent (size 0, no text), a present one as it is', () => {
    const f = join(dir, 'f');
    assert.equal(fileSize(f), 0);
    assert.equal(readTextIfExists(f), undefined);
    writeFileSync(f, 'héllo\n');
    assert.equal(fileSize(f), 7);
    assert.equal(readTextIfExists(f), 'héllo\n');
  });

  it('throws what is not a missing file (a folder), so a damaged store is not taken for an empty one', () => {
    assert.throws(() => readTextIfExists(dir), /EISDIR/);
  });
});
