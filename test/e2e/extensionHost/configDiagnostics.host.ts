import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as vscode from 'vscode';
import { reportMetric, waitFor } from './hostEnv';

const BAD = [
  'name: shop',
  'provider: docker',
  'services:',
  '  api: { command: "node api.js", port: 3000, depends_on: [web] }',
  '  web: { command: "node web.js", port: "eighty", depends_on: [api, cache] }',
  '',
].join('\n');

function folder(): string {
  const f = vscode.workspace.workspaceFolders?.[0];
  assert.ok(f, 'code-server opened a folder');
  return f.uri.fsPath;
}

async function openAndWaitForDiagnostics(file: string): Promise<{ diagnostics: vscode.Diagnostic[]; ms: number }> {
  const uri = vscode.Uri.file(file);
  const t0 = performance.now();
  const doc = await vscode.workspace.openTextDocument(uri);
  await vscode.window.showTextDocument(doc);
  const diagnostics = await waitFor(`diagnostics for ${file}`, 30_000, () => {
    const d = vscode.languages.getDiagnostics(uri).filter((x) => x.source === 'vendetta');
    return d.length ? d : undefined;
  });
  return { diagnostics, ms: performance.now() - t0 };
}

/** [line, startCol, endCol] (0-based) of a word in BAD, found in the text rather than counted by hand. */
function at(line: number, word: string, nth = 0): [number, number, number] {
  const text = BAD.split('\n')[line]!;
  let col = -1;
  for (let i = 0; i <= nth; i++) col = text.indexOf(word, col + 1);
  assert.ok(col >= 0);
  return [line, col, col + word.length];
}

const where = (d: vscode.Diagnostic): [number, number, number] => [
  d.range.start.line,
  d.range.start.character,
  d.range.end.character,
];

describe('the config language server in a real VS Code', () => {
  it("puts a bad .vendetta/config.yaml's cycle, unknown dependency and bad type at their line and column", async () => {
    const file = join(folder(), 'bad-project', '.vendetta', 'config.yaml');
    mkdirSync(join(folder(), 'bad-project', '.vendetta'), { recursive: true });
    writeFileSync(file, BAD);
    const { diagnostics, ms } = await openAndWaitForDiagnostics(file);
    reportMetric('language server diagnostics after open', ms, 'ms');
    const byCode = (code: string) =>
      diagnostics.find((d) => (typeof d.code === 'object' ? d.code.value : d.code) === code);
    const cycle = byCode('dependency-cycle');
    assert.ok(cycle, JSON.stringify(diagnostics));
    assert.deepEqual(where(cycle), at(3, 'web'));
    assert.match(cycle.message, /dependency cycle: api -> web -> api/);
    const unknown = byCode('depends-on-unknown');
    assert.ok(unknown);
    assert.deepEqual(where(unknown), at(4, 'cache'));
    const badType = byCode('schema');
    assert.ok(badType);
    assert.deepEqual(where(badType), at(4, '"eighty"'));
    assert.equal(badType.severity, vscode.DiagnosticSeverity.Error);
    assert.equal(diagnostics.length, 3, 'each problem once');
  });

  it('clears the diagnostics once the file is fixed in the editor', async () => {
    const file = join(folder(), 'bad-project', '.vendetta', 'config.yaml');
    const uri = vscode.Uri.file(file);
    const editor = await vscode.window.showTextDocument(uri);
    const fixed = BAD.replace('depends_on: [web] ', '').replace('"eighty"', '8080').replace(', cache', '');
    const t0 = performance.now();
    await editor.edit((e) => e.replace(new vscode.Range(0, 0, editor.document.lineCount, 0), fixed));
    await waitFor('the diagnostics to clear', 30_000, () =>
      vscode.languages.getDiagnostics(uri).some((d) => d.source === 'vendetta') ? undefined : true,
    );
    reportMetric('language server diagnostics after an edit', performance.now() - t0, 'ms');
  });

  it('offers completion and hover from the schema in the editor', async () => {
    const file = join(folder(), 'bad-project', '.vendetta', 'config.yaml');
    const uri = vscode.Uri.file(file);
    const list = await vscode.commands.executeCommand<vscode.CompletionList>(
      'vscode.executeCompletionItemProvider',
      uri,
      new vscode.Position(1, 10),
    );
    const labels = list.items.map((i) => (typeof i.label === 'string' ? i.label : i.label.label));
    for (const v of ['docker', 'lxc', 'qemu']) assert.ok(labels.includes(v), labels.join(','));
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>(
      'vscode.executeHoverProvider',
      uri,
      new vscode.Position(1, 2),
    );
    const text = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');
    assert.match(text, /What the workspace runs in/);
  });
});
