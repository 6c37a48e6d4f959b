import { spawnSync } from 'node:child_process';
import { REPO_ROOT } from './report.js';

/**
 * Builds an Nx project and the packages it depends on (cached when nothing changed), for a
 * benchmark that times the compiled program as users run it. Nx Cloud and the daemon stay off.
 */
export function buildProject(project: string): void {
  const r = spawnSync('npx', ['nx', 'run', `${project}:build`, '--outputStyle=static'], { cwd: REPO_ROOT, stdio: 'inherit', env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false' } });
  if (r.status !== 0) throw new Error(`building ${project} failed (exit ${r.status})`);
}
