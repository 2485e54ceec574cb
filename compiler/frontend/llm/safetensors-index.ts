/**
 * Sharded safetensors: parsing `model.safetensors.index.json` (`{"metadata": {...}, "weight_map":
 * {"tensor.name": "model-00001-of-00002.safetensors", ...}}`), keeping every shard path inside the
 * index's folder, and finding which file a path names (a .safetensors file, an index, or a folder
 * holding either). Every failure is a W1103 diagnostic; nothing else escapes.
 */
import * as nodePath from 'node:path';
import { diag } from '../../../ir/diagnostics.js';
import type { ImportHost } from '../../host.js';

/** Largest index JSON accepted (a 100k-tensor model's index is a few MB). */
export const MAX_INDEX_BYTES = 100 * 1024 * 1024;

export interface SafetensorsIndex {
  /** The index's `metadata`, values as strings (`total_size` is a number in HF files). */
  metadata: Record<string, string>;
  /** Tensor name → absolute-or-host path of the shard that holds it. */
  weightMap: Map<string, string>;
  /** The distinct shard paths, sorted. */
  shards: string[];
}

/** What `path` refers to: one safetensors file or an index. */
export type SafetensorsSource = { kind: 'file'; path: string } | { kind: 'index'; path: string };

const INDEX_NAME = 'model.safetensors.index.json';
const SINGLE_NAME = 'model.safetensors';

function isFile(host: ImportHost, path: string): boolean {
  try {
    const n = host.fileSize(path);
    return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
  } catch {
    return false;
  }
}

/**
 * Decides what `path` is. A file ending in `.json` is an index, any other file a safetensors file;
 * otherwise `path` is taken as a folder holding `model.safetensors.index.json` (preferred) or
 * `model.safetensors`.
 */
export function locateSafetensors(host: ImportHost, path: string): SafetensorsSource {
  if (isFile(host, path)) return { kind: path.toLowerCase().endsWith('.json') ? 'index' : 'file', path };
  const index = nodePath.join(path, INDEX_NAME);
  if (isFile(host, index)) return { kind: 'index', path: index };
  const single = nodePath.join(path, SINGLE_NAME);
  if (isFile(host, single)) return { kind: 'file', path: single };
  throw diag(
    'W1103',
    `no safetensors weights at '${path}': not a readable file, and no ${INDEX_NAME} or ${SINGLE_NAME} in it as a folder`,
    path,
    `pass a .safetensors file, a ${INDEX_NAME}, or the folder holding them`,
  );
}

/** Resolves a shard name against the index's folder, refusing names that could leave it. */
export function resolveShard(indexPath: string, shard: string, tensor: string): string {
  const segments = shard.split(/[\\/]/);
  if (
    shard === '' ||
    shard.includes('\0') ||
    nodePath.posix.isAbsolute(shard) ||
    nodePath.win32.isAbsolute(shard) ||
    segments.includes('..')
  ) {
    throw diag(
      'W1103',
      `index maps tensor '${tensor}' to shard '${shard}', which is outside the index's folder`,
      `${indexPath}: tensor '${tensor}'`,
      'shard names must be relative paths inside the folder of the index (no absolute paths, no ..)',
    );
  }
  return nodePath.join(nodePath.dirname(indexPath), shard);
}

function metadataString(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v) ?? String(v);
}

/** Reads and validates an index file. Shards are resolved but not opened here. */
export function readSafetensorsIndex(host: ImportHost, path: string): SafetensorsIndex {
  const bad = (message: string, hint = 'the index must be {"metadata": {...}, "weight_map": {"name": "shard.safetensors", ...}}') =>
    diag('W1103', message, path, hint);
  const unreadable = (e: unknown) =>
    bad(`cannot read the index: ${e instanceof Error ? e.message : String(e)}`, 'check the path and its permissions');
  let size: number;
  try {
    size = host.fileSize(path);
  } catch (e) {
    throw unreadable(e);
  }
  if (size > MAX_INDEX_BYTES) throw bad(`index is ${size} bytes, more than the ${MAX_INDEX_BYTES}-byte limit`);
  let bytes: Uint8Array;
  try {
    bytes = host.readFile(path);
  } catch (e) {
    throw unreadable(e);
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw bad(`index is not valid UTF-8 JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw bad('index is not a JSON object');
  const root = json as Record<string, unknown>;
  const meta = root.metadata;
  const metadata: Record<string, string> = {};
  if (meta !== undefined && meta !== null) {
    if (typeof meta !== 'object' || Array.isArray(meta)) throw bad('index "metadata" is not an object');
    for (const k of Object.keys(meta).sort()) metadata[k] = metadataString((meta as Record<string, unknown>)[k]);
  }
  const wm = root.weight_map;
  if (typeof wm !== 'object' || wm === null || Array.isArray(wm)) throw bad('index has no "weight_map" object');
  const weightMap = new Map<string, string>();
  for (const name of Object.keys(wm).sort()) {
    const shard = (wm as Record<string, unknown>)[name];
    if (typeof shard !== 'string') throw bad(`weight_map entry '${name}' is not a file name`);
    weightMap.set(name, resolveShard(path, shard, name));
  }
  if (weightMap.size === 0) throw bad('index "weight_map" names no tensors');
  const shards = [...new Set(weightMap.values())].sort();
  return { metadata, weightMap, shards };
}
