/**
 * jobEventStream's recheck: a stream whose engine never delivers the final event (a queue
 * listener still connecting when a fast job failed) still ends, with the job's final state.
 */
import { describe, expect, it } from 'vitest';
import { jobEventStream, type JobEvent, type JobState } from '../src/index.js';

const spec = { type: 'train', task: 'text-classification', data: 'rows.jsonl' } as JobState['spec'];

describe('jobEventStream', () => {
  it('reads the state when no event comes, and ends on a final state it finds', async () => {
    let state: JobState = { id: 'j1', spec, status: 'active', attempts: 1, createdAt: Date.now() };
    const listeners = new Set<(e: JobEvent) => void>();
    // The engine's side: the job fails without any event reaching the listeners.
    setTimeout(() => (state = { ...state, status: 'failed', error: { code: 'bad_input', message: 'only one label' } }), 200);
    const engine = {
      get: async (id: string) => (id === 'j1' ? state : undefined),
      subscribe: (_id: string, listener: (e: JobEvent) => void) => {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
    };
    const t0 = performance.now();
    const events: JobEvent[] = [];
    for await (const e of jobEventStream(engine, 'j1')) events.push(e);
    expect(events.map((e) => (e.type === 'state' ? e.state.status : e.type))).toEqual(['active', 'failed']);
    expect(performance.now() - t0).toBeLessThan(3000);
    // The stream let go of its subscription.
    expect(listeners.size).toBe(0);
  });

  it('still delivers events as they come, without waiting for a recheck', async () => {
    const listeners = new Set<(e: JobEvent) => void>();
    const active: JobState = { id: 'j2', spec, status: 'active', attempts: 1, createdAt: Date.now() };
    const engine = {
      get: async () => active,
      subscribe: (_id: string, listener: (e: JobEvent) => void) => {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
    };
    setTimeout(() => {
      for (const l of listeners) l({ type: 'state', id: 'j2', state: { ...active, status: 'completed' } });
    }, 50);
    const t0 = performance.now();
    const events: JobEvent[] = [];
    for await (const e of jobEventStream(engine, 'j2')) events.push(e);
    expect(events).toHaveLength(2);
    expect(performance.now() - t0).toBeLessThan(900);
  });
});
