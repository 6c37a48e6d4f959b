/**
 * Pieces of bench:fleet that its test shares: child processes with their output kept for error
 * messages, polling with a deadline, and HAProxy's configuration (deploy/haproxy.cfg, whose
 * addresses come from the environment) and stats socket.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { REPO_ROOT } from './report.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A child process of the fleet, with the tail of its output for error messages. */
export interface Proc {
  name: string;
  child: ChildProcess;
  output: string[];
  /** Why the process could not be started (e.g. ENOENT: the program is not installed). */
  error?: Error;
}

/** Spawns `command` (in the repository root by default), keeping the last 200 lines of its output. */
export function launch(name: string, command: string, argv: string[], env: Record<string, string>, cwd = REPO_ROOT): Proc {
  const child = spawn(command, argv, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const keep = (chunk: Buffer) => {
    output.push(...chunk.toString().split('\n').filter(Boolean));
    if (output.length > 200) output.splice(0, output.length - 200);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const proc: Proc = { name, child, output };
  // Without a listener a spawn failure is an uncaught exception that ends the benchmark before it
  // can stop the processes it already started; `until` reports it instead.
  child.on('error', (err) => (proc.error = err));
  return proc;
}

/** Resolves with the exit code once the process has ended (at once if it already has). */
export function exited(p: Proc): Promise<number | null> {
  if (p.error || p.child.exitCode !== null || p.child.signalCode !== null) return Promise.resolve(p.child.exitCode);
  return new Promise((resolve) => p.child.once('exit', (code) => resolve(code)));
}

/**
 * Polls `check` every 100 ms until it gives a value; fails when `p` exits first or after
 * `timeoutMs`, quoting the process's last output.
 */
export async function until<T>(what: string, p: Proc | undefined, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (p?.error) {
      const hint = (p.error as NodeJS.ErrnoException).code === 'ENOENT' ? ' (not installed? Debian: apt-get install haproxy redis-server; or set HAPROXY / REDIS_SERVER)' : '';
      throw new Error(`${p.name} could not start (${p.child.spawnargs[0]}): ${p.error.message}${hint}`);
    }
    if (p && p.child.exitCode !== null) throw new Error(`${p.name} exited (${p.child.exitCode}) while waiting for ${what}:\n${p.output.slice(-15).join('\n')}`);
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s${p ? `\n${p.output.slice(-15).join('\n')}` : ''}`);
    await sleep(100);
  }
}

/** One request/answer over a Unix or TCP socket that closes after answering (Redis PING, HAProxy's stats socket). */
export function socketExchange(target: { path: string } | { port: number; host: string }, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(target as net.NetConnectOpts);
    let text = '';
    socket.setTimeout(2000, () => socket.destroy(new Error('socket timeout')));
    socket.on('connect', () => socket.write(request));
    socket.on('data', (d) => {
      text += d.toString();
      if ('port' in target && text.includes('\r\n')) socket.end();
    });
    socket.on('end', () => resolve(text));
    socket.on('close', () => resolve(text));
    socket.on('error', reject);
  });
}


/** Path of the HAProxy configuration shared by docker-compose.yml and bench:fleet. */
export const HAPROXY_CONFIG = path.join(REPO_ROOT, 'deploy', 'haproxy.cfg');

/** The environment deploy/haproxy.cfg reads its addresses from, for replicas on loopback ports. */
export function haproxyEnv(lbPort: number, replicaPorts: readonly number[], statsPort: number, socket: string): Record<string, string> {
  const env: Record<string, string> = { SEQLAB_LB_BIND: `127.0.0.1:${lbPort}`, SEQLAB_LB_STATS: `127.0.0.1:${statsPort}`, SEQLAB_LB_SOCKET: socket };
  replicaPorts.forEach((port, i) => (env[`SEQLAB_API${i + 1}`] = `127.0.0.1:${port}`));
  return env;
}

/** One API server as HAProxy's stats socket reports it. */
export interface ServerState {
  /** `UP`, `DOWN`, `MAINT`, or a transition such as `UP 1/2`. */
  status: string;
  /** Connections open to it now (requests in flight). */
  sessions: number;
}

/** Server name (`api1` ...) -> its state, from HAProxy's stats socket (`show stat`). */
export async function serverStates(socket: string): Promise<Map<string, ServerState>> {
  const csv = await socketExchange({ path: socket }, 'show stat\n');
  const lines = csv.split('\n').filter(Boolean);
  const header = lines[0]!.replace(/^# /, '').split(',');
  const col = (name: string) => header.indexOf(name);
  const out = new Map<string, ServerState>();
  for (const line of lines.slice(1)) {
    const f = line.split(',');
    if (f[col('pxname')] === 'api' && /^api\d$/.test(f[col('svname')]!)) out.set(f[col('svname')]!, { status: f[col('status')]!, sessions: Number(f[col('scur')]) });
  }
  return out;
}
