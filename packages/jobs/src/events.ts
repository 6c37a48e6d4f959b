import type { JobEngine, JobEvent } from './types.js';
import { isFinalStatus } from './types.js';

/**
 * How often a stream with no news reads the job's state itself. An event can still be missed:
 * a queue's event listener that is still connecting when a fast job fails (a candidate refusing
 * its data at once) never sees that job's end, and the stream would wait for good.
 */
const RECHECK_MS = 1000;

/**
 * The async-iterator form of {@link JobEngine.subscribe}: subscribes before reading the current
 * state so no event falls between the two, yields that state, then every event until a final
 * state (or at once, when the job has already finished). Without events for
 * {@link RECHECK_MS}, it reads the state and ends there if the job has finished.
 */
export async function* jobEventStream(engine: Pick<JobEngine, 'get' | 'subscribe'>, id: string): AsyncGenerator<JobEvent> {
  const pending: JobEvent[] = [];
  let wake: (() => void) | undefined;
  const unsubscribe = engine.subscribe(id, (event) => {
    pending.push(event);
    wake?.();
  });
  try {
    const current = await engine.get(id);
    if (current === undefined) return;
    yield { type: 'state', id, state: current };
    if (isFinalStatus(current.status)) return;
    for (;;) {
      while (pending.length > 0) {
        const event = pending.shift()!;
        yield event;
        if (event.type === 'state' && isFinalStatus(event.state.status)) return;
      }
      let timer: NodeJS.Timeout | undefined;
      const woken = await new Promise<boolean>((resolve) => {
        wake = () => resolve(true);
        timer = setTimeout(() => resolve(false), RECHECK_MS);
      });
      clearTimeout(timer);
      wake = undefined;
      if (woken || pending.length > 0) continue;
      // A failed read (Redis restarting) waits for the next event or recheck.
      const now = await engine.get(id).catch(() => null);
      if (now === null) continue;
      if (now === undefined) return;
      if (isFinalStatus(now.status)) {
        yield { type: 'state', id, state: now };
        return;
      }
    }
  } finally {
    unsubscribe();
  }
}
