import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { BIN, REPO_ROOT } from './cli.js';

/**
 * Builds @seqlab/cli and, through Nx's `dependsOn: ["^build"]`, every package it imports: the
 * built packages resolve each other through their dist/ (the `default` export condition).
 * Set SEQLAB_E2E_SKIP_BUILD=1 to test an existing build.
 */
export default function setup(): void {
  if (process.env.SEQLAB_E2E_SKIP_BUILD !== '1') {
    execFileSync('npx', ['nx', 'run', '@seqlab/cli:build', '--outputStyle=static'], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, NX_DAEMON: 'false', NX_TUI: 'false', NX_NO_CLOUD: 'true' },
    });
  }
  if (!existsSync(BIN)) throw new Error(`the build did not produce ${BIN}`);
}
