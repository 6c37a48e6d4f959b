import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | null | undefined;

function isWorkspaceRoot(dir: string): boolean {
  const pkg = join(dir, 'package.json');
  if (!existsSync(pkg)) return false;
  try {
    const json = JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown; workspaces?: unknown };
    return json.name === 'seqlab' && Array.isArray(json.workspaces);
  } catch {
    return false;
  }
}

/**
 * The seqlab repository root (where `models/` lives), found by walking up from this file and
 * then from the working directory; `undefined` when the CLI runs outside a checkout.
 */
export function repoRoot(): string | undefined {
  if (cached !== undefined) return cached ?? undefined;
  for (const start of [dirname(fileURLToPath(import.meta.url)), process.cwd()]) {
    let dir = resolve(start);
    for (;;) {
      if (isWorkspaceRoot(dir)) {
        cached = dir;
        return dir;
      }
      const parent = dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  cached = null;
  return undefined;
}

/** The directory holding named models: `$SEQLAB_MODELS`, else `<repo>/models`, else `./models`. */
export function modelsRoot(): string {
  if (process.env.SEQLAB_MODELS) return resolve(process.env.SEQLAB_MODELS);
  const root = repoRoot();
  return root ? join(root, 'models') : resolve('models');
}
