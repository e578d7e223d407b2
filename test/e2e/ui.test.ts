import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { REPO } from '../infra/extensionHostTests';
import { requireVscodeEnv, vscodeEnv, type VscodeEnv } from './vscodeEnv';

const SHOTS = join(REPO, 'test-results');

/**
 * The Remote Nodes view in a real VS Code (code-server) driven through its UI by headless
 * Chromium, as a person would: open the view, see the nodes and the workspace, add a node from
 * the command palette through every input, see it appear. Screenshots (light and dark theme) go
 * to test-results/ for a person to look at.
 */
describe('the Remote Nodes view, through the UI', function () {
  let env: VscodeEnv;
  let page: Page;

  before(async function () {
    this.timeout(900_000);
    requireVscodeEnv(this);
    env = await vscodeEnv();
    mkdirSync(SHOTS, { recursive: true });
    const ctx = await env.cs.browser();
    page = await ctx.newPage();
    const payload: Array<[string, string]> = [
      ['extensionDevelopmentPath', `vscode-remote://127.0.0.1:${env.cs.port}${REPO}`],
      ['skipWelcome', 'true'],
    ];
    await page.goto(env.cs.folderUrl(env.folder, payload), { timeout: 120_000 });
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && page) {
      await page
        .screenshot({
          path: join(SHOTS, `failed-${this.currentTest.title.slice(0, 40).replace(/[^a-z0-9]+/gi, '-')}.png`),
        })
        .catch(() => undefined);
    }
  });

  after(async () => {
    await page?.close().catch(() => undefined);
    env?.cs.updateSettings({ 'workbench.colorTheme': 'Default Light Modern' });
  });

  /** The row labelled exactly `label` (not one whose longer label or description holds it). */
  const row = (label: string) =>
    page
      .locator('.monaco-list-row')
      .filter({
        has: page.locator('.label-name', { hasText: new RegExp(`^${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) }),
      })
      .first();

  const quickInput = () => page.locator('.quick-input-widget input').first();

  /** Types into the quick input once it shows `title` (each step of a multi-step input has its own). */
  async function typeInQuickInput(text: string, title: string): Promise<void> {
    await page.locator('.quick-input-widget', { hasText: title }).waitFor({ timeout: 30_000 });
    const input = quickInput();
    await input.fill(text);
    await input.press('Enter');
  }

  /**
   * The rows shown right under `parent`'s row in the side bar: its children, not a same-named row
   * elsewhere (both workspaces have a `db`). By the rows' list index and tree level.
   */
  async function childRows(parent: string): Promise<Array<{ label: string; text: string }>> {
    // A row the tree re-renders meanwhile reads as empty; callers poll.
    const read = (p: Promise<string | null>) => p.then((t) => t ?? '').catch(() => '');
    const rows = await Promise.all(
      (await page.locator('.part.sidebar .monaco-list-row').all()).map(async (r) => ({
        index: Number(await read(r.getAttribute('data-index', { timeout: 2_000 }))),
        level: Number(await read(r.getAttribute('aria-level', { timeout: 2_000 }))),
        label: await read(r.locator('.label-name').first().textContent({ timeout: 2_000 })),
        text: await read(r.textContent({ timeout: 2_000 })),
      })),
    );
    rows.sort((a, b) => a.index - b.index);
    const at = rows.findIndex((r) => r.label === parent);
    if (at < 0) return [];
    const out: Array<{ label: string; text: string }> = [];
    for (const r of rows.slice(at + 1)) {
      if (r.level <= rows[at]!.level) break;
      if (r.level === rows[at]!.level + 1) out.push({ label: r.label, text: r.text });
    }
    return out;
  }

  /**
   * Opens `parent`'s row until `child` shows under it. Through its twistie, and again if the tree
   * re-rendered the row meanwhile (a refresh as the click lands leaves it collapsed).
   */
  async function expandUntil(parent: string, child: string): Promise<void> {
    const deadline = Date.now() + 60_000;
    while (!(await childRows(parent)).some((r) => r.label === child)) {
      if (Date.now() > deadline) throw new Error(`${child} did not show under ${parent} within 60 s`);
      if ((await row(parent).getAttribute('aria-expanded')) === 'false')
        await row(parent).locator('.monaco-tl-twistie').click({ timeout: 10_000 });
      await page.waitForTimeout(500);
    }
  }

  async function palette(command: string): Promise<void> {
    await page.keyboard.press('F1');
    const input = quickInput();
    await input.waitFor({ state: 'visible', timeout: 10_000 });
    await input.fill(`>${command}`);
    // Click the row naming the command: the highlighted first row may be a fuzzy match of another.
    const match = page.locator('.quick-input-list .monaco-list-row', { hasText: command }).first();
    await match.waitFor({ timeout: 10_000 });
    await match.click();
  }

  /**
   * Drags the sash between the side bar and the editor until the side bar is `width` px wide, as
   * a person would, so the screenshots show the rows' descriptions whole (the default is ~300 px).
   */
  async function widenSideBar(width: number): Promise<void> {
    const sidebar = page.locator('.part.sidebar').first();
    await sidebar.waitFor({ timeout: 30_000 });
    const box = await sidebar.boundingBox();
    assert.ok(box, 'the side bar is on screen');
    const y = box.y + box.height / 2;
    await page.mouse.move(box.x + box.width, y);
    await page.mouse.down();
    await page.mouse.move(box.x + width, y, { steps: 10 });
    await page.mouse.up();
    // Off the sash, so it is not drawn highlighted in the screenshots.
    await page.mouse.move(box.x + width + 200, y);
    const after = await sidebar.boundingBox();
    assert.ok(
      after && Math.abs(after.width - width) <= 8,
      `the side bar is ${after?.width} px wide after the drag, not ${width}`,
    );
  }

  it('opens the Vendetta view and shows both nodes, and the running workspace under its node', async function () {
    this.timeout(120_000);
    await page.locator('.activitybar [aria-label^="Vendetta"]').first().click({ timeout: 60_000 });
    await widenSideBar(640);
    const [n1, n2] = env.info.nodes;
    await row(n1!.name).waitFor({ timeout: 60_000 });
    await row(n2!.name).waitFor({ timeout: 60_000 });
    const ws = env.info.workspace!;
    // Expanded nodes show their workspaces, workspaces their services; collapsed ones are opened.
    await expandUntil(ws.node, ws.name);
    const wsRow = await row(ws.name).textContent();
    assert.match(wsRow ?? '', new RegExp(ws.name));
    await expandUntil(ws.name, 'db');
    // The LXD workspace (provider lxc) under the built-in local node, its services healthy.
    const lxc = env.info.lxcWorkspace!;
    await expandUntil('local', lxc.name);
    assert.match((await row(lxc.name).textContent()) ?? '', /running · lxc · /);
    await expandUntil(lxc.name, 'web');
    const deadline = Date.now() + 30_000;
    for (;;) {
      const services = await childRows(lxc.name);
      const healthy = services.filter((r) => /· healthy$/.test(r.text)).map((r) => r.label);
      if (lxc.services.every((s) => healthy.includes(s))) break;
      if (Date.now() > deadline)
        throw new Error(
          `${lxc.name}'s services are not all healthy in the view: ${services.map((r) => r.text).join(', ')}`,
        );
      await page.waitForTimeout(500);
    }
    await page.screenshot({ path: join(SHOTS, 'remote-nodes-light.png') });
  });

  it('adds a node from the command palette through its inputs, and the node appears in the view', async function () {
    this.timeout(180_000);
    const spare = env.spareNode;
    await palette('Vendetta: Add Node');
    await typeInQuickInput(spare.name, 'Add Node (1/4)');
    await typeInQuickInput(spare.host, 'Add Node (2/4)');
    await typeInQuickInput(spare.user, 'Add Node (3/4)');
    await page.locator('.quick-input-widget', { hasText: 'Add Node (4/4)' }).waitFor({ timeout: 30_000 });
    // The key: Browse…, then the path typed into VS Code's own file dialog.
    const input = quickInput();
    await input.fill('Browse');
    await page
      .locator('.quick-input-list .monaco-list-row', { hasText: 'Browse' })
      .first()
      .waitFor({ timeout: 10_000 });
    await input.press('Enter');
    await page.locator('.quick-input-widget', { hasText: 'SSH private key' }).waitFor({ timeout: 30_000 });
    // The dialog fills in its start folder a moment after it opens; type the path after that.
    await page.waitForFunction(
      (el) => (el as { value?: string }).value?.startsWith('/') ?? false,
      await input.elementHandle(),
      { timeout: 10_000 },
    );
    await input.fill(spare.identity);
    await page
      .locator('.quick-input-list .monaco-list-row', { hasText: spare.identity.split('/').pop()! })
      .first()
      .waitFor({ timeout: 10_000 });
    await input.press('Enter');
    // VS Code's own file dialog can drop an Enter that lands while it is still reading the
    // folder; a person presses it again.
    const keyPicker = page.locator('.quick-input-widget', { hasText: 'SSH private key' });
    if (
      !(await keyPicker.waitFor({ state: 'hidden', timeout: 5_000 }).then(
        () => true,
        () => false,
      ))
    )
      await input.press('Enter');
    // The host key to confirm, in a modal dialog naming its fingerprint.
    const dialog = page.locator('.monaco-dialog-box');
    await dialog.waitFor({ timeout: 60_000 }).catch(async (err: Error) => {
      // Say what is on screen instead: an error toast, or the input still open.
      const toasts = await page.locator('.notification-toast').allTextContents();
      const inputs = await page.locator('.quick-input-widget:visible').allTextContents();
      throw new Error(
        `no host key dialog within 60 s; toasts: ${JSON.stringify(toasts)}; quick input: ${JSON.stringify(inputs)}`,
        { cause: err },
      );
    });
    assert.match((await dialog.textContent()) ?? '', new RegExp(spare.hostKeyFingerprint.replace(/[+/]/g, '\\$&')));
    await page.screenshot({ path: join(SHOTS, 'add-node-host-key.png') });
    await dialog.getByRole('button', { name: 'Trust and Add' }).click();
    await page.locator('.notification-toast', { hasText: `Added ${spare.name}` }).waitFor({ timeout: 120_000 });
    await row(spare.name).waitFor({ timeout: 60_000 });
    assert.match((await row(spare.name).textContent()) ?? '', /online/);
  });

  it('shows the same view in a dark theme', async function () {
    this.timeout(90_000);
    // Whatever the previous step left open (a toast, a dialog) must not take the keys.
    await page.keyboard.press('Escape');
    await page
      .locator('.monaco-dialog-box')
      .waitFor({ state: 'detached', timeout: 10_000 })
      .catch(() => undefined);
    // The color theme picker, from the command palette (a key chord depends on where focus is).
    await palette('Preferences: Color Theme');
    const input = quickInput();
    // The picker names itself only in its input's placeholder.
    await page.locator('.quick-input-widget input[placeholder*="Color Theme"]').waitFor({ timeout: 30_000 });
    await input.fill('Dark Modern');
    const dark = page.locator('.quick-input-list .monaco-list-row', { hasText: /^\s*Dark Modern/ }).first();
    await dark.waitFor({ timeout: 20_000 });
    await dark.click();
    await page.locator('.monaco-workbench.vs-dark').waitFor({ timeout: 30_000 });
    await row(env.spareNode.name).waitFor({ timeout: 20_000 });
    await page.screenshot({ path: join(SHOTS, 'remote-nodes-dark.png') });
  });
});
