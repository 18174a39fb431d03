// The shape of src/'s imports: no cycles (type-only imports count too), and the login flows below the command.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import test from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'src');

/** Each .ts file under src/ (relative, with "/") and the src/ files it imports, statically or with import(). */
function importGraph(): Map<string, string[]> {
  const files = readdirSync(SRC, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .map((file) => file.split('\\').join('/'));
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const text = readFileSync(join(SRC, file), 'utf8');
    const imported = [...text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*)'(\.{1,2}\/[^']+)'/g)].map((match) =>
      relative(SRC, resolve(SRC, dirname(file), match[1]!.replace(/\.js$/, '.ts'))).split('\\').join('/'),
    );
    graph.set(file, imported.filter((target) => files.includes(target)));
  }
  return graph;
}

/** Every cycle a depth-first walk meets, as "a.ts -> b.ts -> a.ts". */
function cycles(graph: Map<string, string[]>): string[] {
  const found: string[] = [];
  const done = new Set<string>();
  const path: string[] = [];
  const visit = (file: string) => {
    path.push(file);
    for (const next of graph.get(file) ?? []) {
      const at = path.indexOf(next);
      if (at >= 0) found.push([...path.slice(at), next].join(' -> '));
      else if (!done.has(next)) visit(next);
    }
    path.pop();
    done.add(file);
  };
  for (const file of graph.keys()) if (!done.has(file)) visit(file);
  return found;
}

test('src/ has no import cycles, and nothing in src/login imports a command', () => {
  const graph = importGraph();
  assert.ok(graph.size > 30 && graph.get('commands/login.ts')?.includes('login/session.ts'), 'the walk reads src/');
  assert.deepEqual(cycles(graph), []);
  const upward = [...graph].flatMap(([file, imported]) => (file.startsWith('login/') ? imported.filter((target) => target.startsWith('commands/')).map((target) => `${file} -> ${target}`) : []));
  assert.deepEqual(upward, []);
});
