import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '@seqlab/tools';

const SRC = path.join(REPO_ROOT, 'tools', 'recipes', 'src');
const scripts = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')).scripts as Record<string, string>;

describe('recipes project', () => {
  it('every recipe reaches models through @seqlab/tasks: no import of rnn, embeddings or forecast, static, dynamic or type-only', () => {
    const files = readdirSync(SRC).filter((f) => f.endsWith('.ts'));
    expect(files).toContain('trec.ts');
    for (const f of files) {
      const text = readFileSync(path.join(SRC, f), 'utf8');
      expect(text, f).not.toMatch(/['"]@seqlab\/(rnn|embeddings|forecast)(\/[^'"]*)?['"]/);
    }
  });

  it('each recipe:* script of the root package.json runs a file that exists under tools/', () => {
    const recipes = Object.entries(scripts).filter(([name]) => name.startsWith('recipe:'));
    expect(recipes.map(([name]) => name)).toContain('recipe:trec');
    for (const [name, command] of recipes) {
      const file = command.split(' ').find((part) => part.endsWith('.ts'));
      expect(file, name).toBeDefined();
      expect(existsSync(path.join(REPO_ROOT, file!)), `${name}: ${file}`).toBe(true);
    }
    // The recipes moved to their own project keep their names.
    expect(scripts['recipe:trec']).toContain('tools/recipes/src/trec.ts');
  });
});
