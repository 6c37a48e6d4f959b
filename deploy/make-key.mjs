// Makes an API key for docker-compose.yml: prints the keys file (sha256 only) on stdout and the
// key itself once on stderr.   node deploy/make-key.mjs [id] [scopes] > deploy/api-keys.json
import { createHash, randomBytes } from 'node:crypto';

const id = process.argv[2] ?? 'admin';
const scopes = (process.argv[3] ?? 'predict,train,admin').split(',');
const key = randomBytes(24).toString('base64url');
process.stderr.write(`API key for "${id}" (${scopes.join(', ')}); store it now, it is not kept: ${key}\n`);
process.stdout.write(`${JSON.stringify({ keys: [{ id, sha256: createHash('sha256').update(key).digest('hex'), scopes }] }, null, 2)}\n`);
