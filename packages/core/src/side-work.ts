/**
 * Side work: small synchronous items the calling thread runs while it would otherwise wait for a
 * helper thread to finish a kernel call. An ensemble registers its members that need no kernels
 * (plain-array linear models) for the time its recurrent member runs, so both cores stay busy:
 * the helper runs the recurrence, the calling thread scores the other members' texts.
 *
 * Items must not use the kernels themselves (the runtime refuses), and should each take well
 * under a millisecond, since a kernel call finishing on the helper waits for the item in hand.
 */

/** Runs one item; returns false (and runs nothing) once it has no more. */
export type SideWork = () => boolean;

const registered: SideWork[] = [];
let running = false;

/** Registers `work` while `fn` runs (other async work may run its items in its own waits too). */
export async function withSideWork<T>(work: SideWork, fn: () => Promise<T>): Promise<T> {
  registered.push(work);
  try {
    return await fn();
  } finally {
    const at = registered.indexOf(work);
    if (at >= 0) registered.splice(at, 1);
  }
}

/** Whether any side work is registered. */
export function hasSideWork(): boolean {
  return registered.length > 0;
}

/** Runs one item of registered side work; false when none is left (exhausted work is dropped). */
export function runSideWork(): boolean {
  while (registered.length > 0) {
    const work = registered[0]!;
    running = true;
    let ran: boolean;
    try {
      ran = work();
    } finally {
      running = false;
    }
    if (ran) return true;
    registered.shift();
  }
  return false;
}

/** Whether a side-work item is running now (kernel sessions refuse to start inside one). */
export function inSideWork(): boolean {
  return running;
}
