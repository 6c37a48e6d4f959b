/**
 * The model store's face: `GET /v1/models` lists every model with its versions and the one
 * served (open, like the other reads); `PUT /v1/models/:name/pin` (scope `admin`) pins a version
 * or removes the pin. Replicas pick the change up within MODEL_POLL_MS: each serves what the
 * store resolves (the pin, else the newest version) at its next check.
 */
import path from 'node:path';
import { Router } from 'express';
import { UnsupportedError } from '@seqlab/core';
import { ModelStore, describeModel, type StoredModel } from '@seqlab/tasks';
import { requireScope, type KeyRing } from '../auth.js';
import type { Config } from '../config.js';
import { HttpError } from '../errors.js';
import type { Schemas } from '../schemas.js';
import { parseBody } from './v1.js';

/**
 * One model as `GET /v1/models` lists it. Folders in the older, unversioned layout list
 * `versions: []`, `served: null`, `pinned: null` and `unversioned: true`: they are served as they
 * are and cannot be pinned.
 */
export interface ModelEntry {
  name: string;
  /** The task and kind of the served folder (`null` when its config.json cannot be read). */
  task: string | null;
  kind: string | null;
  versions: number[];
  served: number | null;
  pinned: number | null;
  unversioned: boolean;
}

async function entryOf(store: ModelStore, m: StoredModel): Promise<ModelEntry> {
  const dir = m.unversioned ? path.join(store.root, m.name) : path.join(store.root, m.name, String(m.served));
  const config = await describeModel(dir).catch(() => undefined);
  return {
    name: m.name,
    task: config?.task ?? null,
    kind: config?.kind ?? null,
    versions: m.versions,
    served: m.served,
    pinned: m.pinned,
    unversioned: m.unversioned,
  };
}

/** Every model in the store, by name. */
export async function listStoredModels(store: ModelStore): Promise<ModelEntry[]> {
  return Promise.all((await store.list()).map((m) => entryOf(store, m)));
}

/** `GET /v1/models` and `PUT /v1/models/:name/pin`. */
export function modelRoutes(config: Config, schemas: Schemas, keys: KeyRing | undefined): Router {
  const router = Router();
  const store = new ModelStore(config.modelsDir);

  router.get('/v1/models', async (_req, res) => {
    res.json({ models: await listStoredModels(store) });
  });

  router.put('/v1/models/:name/pin', requireScope(keys, 'admin', 'admin_disabled'), async (req, res) => {
    const name = String(req.params.name);
    const { version } = parseBody(schemas.pin, req);
    const before = (await store.list()).find((m) => m.name === name);
    if (before === undefined) throw new HttpError(404, 'not_found', `no model named "${name}"`);
    if (before.unversioned) throw new UnsupportedError(`model "${name}" is an unversioned folder: only published versions (models/<name>/<version>/) can be pinned`);
    await store.pin(name, version);
    const after = (await store.list()).find((m) => m.name === name)!;
    res.json(await entryOf(store, after));
  });
  return router;
}
