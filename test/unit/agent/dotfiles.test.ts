import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateCreateParams } from '../../../agent/handlers/workspaceParams';
import { nullLogger } from '../../../agent/log/logger';
import type { ExecOptions, ExecResult, WorkspaceProvider } from '../../../agent/providers/contract';
import {
  DOTFILES_MARKER,
  expandHome,
  installCommandArg,
  installDotfiles,
  type DotfilesRun,
} from '../../../agent/workspaces/dotfiles';

/**
 * A provider whose "workspace" is this machine with HOME set to a temp folder: the scripts run in a
 * real sh, the clone comes from a real git, the tar is extracted by a real tar.
 */
function localProvider(home: string, calls: string[][]): WorkspaceProvider {
  const exec = (_id: string, argv: string[], opts: ExecOptions = {}): Promise<ExecResult> =>
    new Promise((resolve, reject) => {
      calls.push(argv);
      const child = spawn(argv[0]!, argv.slice(1), { env: { PATH: process.env.PATH, HOME: home } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ exitCode: code ?? -1, stdout, stderr }));
      const input = opts.stdin;
      if (input === undefined) child.stdin.end();
      else if (Buffer.isBuffer(input)) child.stdin.end(input);
      else
        void (async () => {
          for await (const chunk of input) child.stdin.write(chunk);
          child.stdin.end();
        })();
    });
  return { name: 'docker', exec } as unknown as WorkspaceProvider;
}

describe('your dotfiles in every workspace', () => {
  let dir: string;
  let home: string;
  let agentDir: string;
  let said: string[];
  let calls: string[][];
  const git = (cwd: string, ...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd, stdio: 'pipe' });

  /** A bare repository (file:// URL) with these files committed. */
  function repo(name: string, files: Record<string, string>): string {
    const work = join(dir, `${name}-work`);
    mkdirSync(work, { recursive: true });
    git(work, 'init', '-q');
    for (const [p, text] of Object.entries(files)) {
      mkdirSync(join(work, p, '..'), { recursive: true });
      writeFileSync(join(work, p), text, { mode: 0o644 });
    }
    git(work, 'add', '-A');
    git(work, 'commit', '-q', '-m', 'dotfiles');
    git(dir, 'clone', '-q', '--bare', work, `${name}.git`);
    return `file://${join(dir, `${name}.git`)}`;
  }

  const run = (dotfiles: DotfilesRun['dotfiles'], extra: Partial<DotfilesRun> = {}) =>
    installDotfiles(
      localProvider(home, calls),
      {
        workspace: 'shop',
        providerId: 'c1',
        user: 'dev',
        workspaceDir: agentDir,
        dotfiles,
        say: (m) => said.push(m),
        ...extra,
      },
      nullLogger,
    );

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vendetta-dotfiles-'));
    home = join(dir, 'home');
    agentDir = join(dir, 'agent-ws');
    mkdirSync(home);
    mkdirSync(agentDir);
    said = [];
    calls = [];
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('clones on the node, puts the clone in ~/dotfiles and runs install.sh there once; the clone on the node is gone', async () => {
    const url = repo('dots', {
      'install.sh': 'echo "$(pwd)" >> "$HOME/ran"\n',
      'setup.sh': 'echo wrong >> "$HOME/ran"\n',
      '.vimrc': 'set nu\n',
    });
    assert.equal(await run({ repository: url }), 'installed');
    assert.equal(readFileSync(join(home, 'ran'), 'utf8'), `${join(home, 'dotfiles')}\n`, 'install.sh before setup.sh');
    assert.ok(existsSync(join(home, 'dotfiles', '.git')), 'a clone, with its history, to pull later');
    assert.equal(readFileSync(join(home, DOTFILES_MARKER), 'utf8'), `${url}\n`);
    assert.ok(!existsSync(join(home, '.vimrc')), 'an install script decides what goes where');
    assert.deepEqual(readdirSync(agentDir), [], 'the clone on the node was removed');
    assert.ok(said.includes('Dotfiles installed (ran ./install.sh)'), said.join('\n'));

    // Again (a second `up`): one probe, nothing cloned, nothing run.
    calls.length = 0;
    assert.equal(await run({ repository: url }), 'already');
    assert.equal(calls.length, 1);
    assert.equal(readFileSync(join(home, 'ran'), 'utf8'), `${join(home, 'dotfiles')}\n`);
  });

  it('follows the Dev Containers search order, takes an explicit command and target, and links dotfiles when there is no script', async () => {
    const order = repo('order', {
      'script/setup': 'echo script/setup >> "$HOME/ran"\n',
      bootstrap: 'echo bootstrap >> "$HOME/ran"\n',
      'custom/go.sh': 'echo custom >> "$HOME/ran"\n',
    });
    assert.equal(await run({ repository: order }), 'installed');
    assert.equal(readFileSync(join(home, 'ran'), 'utf8'), 'bootstrap\n');

    rmSync(home, { recursive: true });
    mkdirSync(home);
    const custom = { repository: order, installCommand: 'custom/go.sh', targetPath: '~/.config/dots' };
    assert.equal(await run(custom), 'installed');
    assert.equal(readFileSync(join(home, 'ran'), 'utf8'), 'custom\n');
    assert.ok(existsSync(join(home, '.config', 'dots', 'custom', 'go.sh')));

    rmSync(home, { recursive: true });
    mkdirSync(home);
    const plain = repo('plain', { '.bashrc': 'alias ll="ls -l"\n', '.config/x.conf': 'x\n', 'README.md': 'mine\n' });
    assert.equal(await run({ repository: plain }), 'installed');
    assert.equal(readlinkSync(join(home, '.bashrc')), join(home, 'dotfiles', '.bashrc'));
    assert.equal(readlinkSync(join(home, '.config')), join(home, 'dotfiles', '.config'));
    assert.ok(!existsSync(join(home, 'README.md')), 'only dotfiles are linked');
    assert.ok(!lstatSync(join(home, 'dotfiles', '.git')).isSymbolicLink() && !existsSync(join(home, '.git')));
    assert.ok(said.includes('Dotfiles linked into ~ (2)'), said.join('\n'));
  });

  it('says why and leaves no marker when git is missing on the node, the clone fails, or the script fails; the next up tries again', async () => {
    const url = repo('failing', { 'install.sh': 'echo half >> "$HOME/ran"; echo "no vim here" >&2; exit 3\n' });
    // The answer carries the same why as the progress line, for up's `warnings`.
    const why = (r: Awaited<ReturnType<typeof run>>) => {
      assert.equal(typeof r, 'object', `not installed, got ${String(r)}`);
      assert.equal(said.at(-1), `Dotfiles not installed: ${(r as { notInstalled: string }).notInstalled}`);
      return (r as { notInstalled: string }).notInstalled;
    };
    assert.match(
      why(await run({ repository: url }, { git: join(dir, 'no-such-git') })),
      /^git is not installed on the node, which clones them/,
    );
    assert.match(
      why(await run({ repository: `file://${join(dir, 'missing.git')}` })),
      /^cloning file:\/\/.*missing\.git on the node failed: fatal: /,
    );
    assert.match(
      why(await run({ repository: url })),
      /^\.\/install\.sh failed \(exit 3\): no vim here.*next `up` runs it again/,
    );
    assert.match(why(await run({ repository: url, installCommand: 'nope.sh' })), /^nope\.sh is not in .*dotfiles/);
    assert.ok(!existsSync(join(home, DOTFILES_MARKER)));
    assert.equal(readFileSync(join(home, 'ran'), 'utf8'), 'half\n', 'the failed script ran once, again next time');
    assert.deepEqual(readdirSync(agentDir), []);
  });

  it('expands ~ as the login user’s home; a relative install command is inside the clone', () => {
    assert.equal(expandHome('~', '/home/dev'), '/home/dev');
    assert.equal(expandHome('~/dotfiles', '/home/dev/'), '/home/dev/dotfiles');
    assert.equal(expandHome('/opt/dots', '/home/dev'), '/opt/dots');
    assert.equal(installCommandArg(undefined, '/h'), '');
    assert.equal(installCommandArg('install.sh', '/h'), './install.sh');
    assert.equal(installCommandArg('./x/y.sh', '/h'), './x/y.sh');
    assert.equal(installCommandArg('~/dotfiles/go.sh', '/h'), '/h/dotfiles/go.sh');
  });

  it('takes dotfiles in workspaces/create only as one-line text, a repository git cannot read as an option, a target under ~ or absolute', () => {
    const spec = validateCreateParams({
      spec: {
        name: 'shop',
        provider: 'docker',
        docker: { image: 'debian' },
        user: 'root',
        workspaceFolder: '/workspaces/shop',
        env: {},
        authorizedKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEaAlIAOWFiM2S5k6XtIb60EpQQNCjFD8D/C4tkrR5nY me@laptop'],
      },
    }).spec;
    const create = (dotfiles: unknown) => validateCreateParams({ spec, dotfiles });
    assert.deepEqual(create({ repository: 'https://example.com/d.git', targetPath: '~/d' }).dotfiles, {
      repository: 'https://example.com/d.git',
      targetPath: '~/d',
    });
    for (const bad of [
      'x',
      { repository: '' },
      { repository: '--upload-pack=touch /tmp/x' },
      { repository: 'a\nb' },
      { repository: 'r', targetPath: 'relative' },
      { repository: 'r', installCommand: 7 },
    ])
      assert.throws(() => create(bad), /Invalid params for workspaces\/create: dotfiles/, JSON.stringify(bad));
  });
});
