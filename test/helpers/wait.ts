/**
 * Waiting on events a test cannot subscribe to (a file appears, a process exits), without a clock in
 * any assertion: the condition is polled until it holds; mocha's timeout is the only bound. When
 * `unless` (e.g. the child process being waited on) settles first, the wait fails at once, naming what
 * never happened, instead of running into the timeout.
 */
export async function waitFor(what: string, cond: () => boolean, unless?: PromiseLike<unknown>): Promise<void> {
  let ended = false;
  void unless?.then(
    () => (ended = true),
    () => (ended = true),
  );
  while (!cond()) {
    if (ended) throw new Error(`${what}: never happened (the process ended first)`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
