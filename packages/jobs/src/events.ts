import type { JobEngine, JobEvent } from './types.js';
import { isFinalStatus } from './types.js';

/**
 * The async-iterator form of {@link JobEngine.subscribe}: subscribes before reading the current
 * state so no event falls between the two, yields that state, then every event until a final
 * state (or at once, when the job has already finished).
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
      await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
  } finally {
    unsubscribe();
  }
}
