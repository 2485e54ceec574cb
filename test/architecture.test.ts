/**
 * Layering rules of DESIGN.md, read from the source with ts-morph: ir/ imports neither compiler/ nor
 * runtime/ (and does no file I/O); compiler/ and runtime/ never import each other.
 */
import { Project } from 'ts-morph';
import { dirname, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');

function importsOf(layer: string): { file: string; target: string }[] {
  const project = new Project({ skipAddingFilesFromTsConfig: true });
  project.addSourceFilesAtPaths(`${root}/${layer}/**/*.ts`);
  const out: { file: string; target: string }[] = [];
  for (const sf of project.getSourceFiles()) {
    const file = relative(root, sf.getFilePath());
    const specs = [
      ...sf.getImportDeclarations().map((d) => d.getModuleSpecifierValue()),
      ...sf.getExportDeclarations().map((d) => d.getModuleSpecifierValue()).filter((s): s is string => !!s),
    ];
    for (const spec of specs) {
      const target = spec.startsWith('.') ? relative(root, resolve(dirname(sf.getFilePath()), spec)) : spec;
      out.push({ file, target });
    }
  }
  return out;
}

const layerOf = (target: string) => target.split('/')[0];

describe('layering', () => {
  it('finds the imports it checks', () => {
    expect(importsOf('ir').length).toBeGreaterThan(10);
    expect(importsOf('compiler').some((i) => layerOf(i.target) === 'ir')).toBe(true);
  });

  it('ir/ imports neither compiler/ nor runtime/ and does no file I/O', () => {
    const bad = importsOf('ir').filter((i) =>
      ['compiler', 'runtime', 'cli'].includes(layerOf(i.target)) || /^(node:)?(fs|fs\/promises|child_process)$/.test(i.target));
    expect(bad).toEqual([]);
  });

  it('compiler/ does not import runtime/ (or cli/)', () => {
    const bad = importsOf('compiler').filter((i) => ['runtime', 'cli'].includes(layerOf(i.target)));
    expect(bad).toEqual([]);
  });

  it('runtime/ does not import compiler/ (or cli/)', () => {
    const bad = importsOf('runtime').filter((i) => ['compiler', 'cli'].includes(layerOf(i.target)));
    expect(bad).toEqual([]);
  });
});
