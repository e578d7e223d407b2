/**
 * A minimal ISO 9660 image writer: one root folder of small files, which is all a cloud-init
 * NoCloud seed is (volume label `cidata`, files `user-data` and `meta-data`). Names are stored
 * upper-case with `;1`, as plain ISO 9660 has them; Linux's isofs shows them lower-case without
 * the version, which is what cloud-init reads. Hand-written so a node needs nothing beyond QEMU
 * (cloud-localds needs genisoimage; the format is a few fixed structures).
 */
const SECTOR = 2048;

function bothEndian32(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt32LE(n, 0);
  b.writeUInt32BE(n, 4);
  return b;
}

function bothEndian16(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt16LE(n, 0);
  b.writeUInt16BE(n, 2);
  return b;
}

/** A fixed-width text field padded with spaces. */
function text(s: string, width: number): Buffer {
  return Buffer.from(s.padEnd(width, ' ').slice(0, width), 'ascii');
}

/** The 7-byte date of a directory record. */
function recordDate(d: Date): Buffer {
  return Buffer.from([
    d.getUTCFullYear() - 1900,
    d.getUTCMonth() + 1,
    d.getUTCDate(),
    d.getUTCHours(),
    d.getUTCMinutes(),
    d.getUTCSeconds(),
    0,
  ]);
}

/** The 17-byte date of the volume descriptor: `YYYYMMDDHHMMSScc` and a zone offset byte. */
function volumeDate(d: Date): Buffer {
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  const s = `${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}00`;
  return Buffer.concat([Buffer.from(s, 'ascii'), Buffer.from([0])]);
}

function dirRecord(name: Buffer, extent: number, size: number, isDir: boolean, when: Date): Buffer {
  const len = 33 + name.length + (name.length % 2 === 0 ? 1 : 0);
  const r = Buffer.alloc(len);
  r[0] = len;
  bothEndian32(extent).copy(r, 2);
  bothEndian32(size).copy(r, 10);
  recordDate(when).copy(r, 18);
  r[25] = isDir ? 2 : 0;
  bothEndian16(1).copy(r, 28);
  r[32] = name.length;
  name.copy(r, 33);
  return r;
}

/** `user-data` → `USER-DATA;1`. Only names of letters, digits, `-`, `_` and one dot are accepted. */
export function isoName(name: string): string {
  if (!/^[A-Za-z0-9_-]{1,30}(\.[A-Za-z0-9_-]{1,8})?$/.test(name))
    throw new Error(`not a name an ISO 9660 seed can hold: ${name}`);
  return `${name.toUpperCase()};1`;
}

export interface IsoFile {
  name: string;
  data: Buffer | string;
}

/** The whole image: system area, primary descriptor, terminator, path tables, root folder, files. */
export function buildIso(volumeLabel: string, files: IsoFile[], when = new Date()): Buffer {
  const sorted = files
    .map((f) => ({
      id: Buffer.from(isoName(f.name), 'ascii'),
      data: Buffer.isBuffer(f.data) ? f.data : Buffer.from(f.data, 'utf8'),
    }))
    .sort((a, b) => Buffer.compare(a.id, b.id));
  const PVD = 16;
  const L_TABLE = 18;
  const M_TABLE = 19;
  const ROOT = 20;
  let next = ROOT + 1;
  const placed = sorted.map((f) => {
    const extent = next;
    next += Math.max(1, Math.ceil(f.data.length / SECTOR));
    return { ...f, extent };
  });
  const total = next;
  const image = Buffer.alloc(total * SECTOR);

  const rootSelf = dirRecord(Buffer.from([0]), ROOT, SECTOR, true, when);
  const root = Buffer.concat([
    rootSelf,
    dirRecord(Buffer.from([1]), ROOT, SECTOR, true, when),
    ...placed.map((f) => dirRecord(f.id, f.extent, f.data.length, false, when)),
  ]);
  if (root.length > SECTOR) throw new Error('too many files for a one-sector seed folder');
  root.copy(image, ROOT * SECTOR);
  for (const f of placed) f.data.copy(image, f.extent * SECTOR);

  // The path tables: one entry, the root folder (id 0, parent 1), little- and big-endian.
  const lEntry = Buffer.from([1, 0, 0, 0, 0, 0, 1, 0, 0, 0]);
  lEntry.writeUInt32LE(ROOT, 2);
  const mEntry = Buffer.from([1, 0, 0, 0, 0, 0, 0, 1, 0, 0]);
  mEntry.writeUInt32BE(ROOT, 2);
  lEntry.copy(image, L_TABLE * SECTOR);
  mEntry.copy(image, M_TABLE * SECTOR);

  const pvd = image.subarray(PVD * SECTOR, (PVD + 1) * SECTOR);
  pvd[0] = 1;
  pvd.write('CD001', 1, 'ascii');
  pvd[6] = 1;
  text('LINUX', 32).copy(pvd, 8);
  text(volumeLabel, 32).copy(pvd, 40);
  bothEndian32(total).copy(pvd, 80);
  bothEndian16(1).copy(pvd, 120);
  bothEndian16(1).copy(pvd, 124);
  bothEndian16(SECTOR).copy(pvd, 128);
  bothEndian32(lEntry.length).copy(pvd, 132);
  pvd.writeUInt32LE(L_TABLE, 140);
  pvd.writeUInt32BE(M_TABLE, 148);
  rootSelf.copy(pvd, 156);
  for (const [at, width] of [
    [190, 128],
    [318, 128],
    [446, 128],
    [574, 128],
    [702, 37],
    [739, 37],
    [776, 37],
  ] as const)
    text('', width).copy(pvd, at);
  volumeDate(when).copy(pvd, 813);
  volumeDate(when).copy(pvd, 830);
  Buffer.concat([Buffer.from('0000000000000000', 'ascii'), Buffer.from([0])]).copy(pvd, 847);
  volumeDate(when).copy(pvd, 864);
  pvd[881] = 1;

  const term = image.subarray((PVD + 1) * SECTOR, (PVD + 2) * SECTOR);
  term[0] = 255;
  term.write('CD001', 1, 'ascii');
  term[6] = 1;
  return image;
}
