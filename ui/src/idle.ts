// Auto-lock: locks the app after a stretch without keyboard or mouse use. Collection goes on
// (the shell keeps readings in memory while locked). Checked against the clock every second,
// so a throttled or suspended timer still locks on its next tick.

let lastActivity = Date.now();

/** Starts watching: `limitMs()` is the idle time allowed (0 = never), `isOpen()` whether the
 * app is unlocked, `lock()` locks it. */
export function watch(limitMs: () => number, isOpen: () => boolean, lock: () => Promise<void>): void {
  const seen = () => (lastActivity = Date.now());
  for (const ev of ["mousemove", "mousedown", "keydown", "wheel", "touchstart", "focus"]) {
    window.addEventListener(ev, seen, { capture: true, passive: true });
  }
  let locking = false;
  setInterval(() => {
    const limit = limitMs();
    if (!isOpen()) {
      lastActivity = Date.now();
      return;
    }
    if (limit > 0 && !locking && Date.now() - lastActivity >= limit) {
      locking = true;
      lock().finally(() => {
        locking = false;
        lastActivity = Date.now();
      });
    }
  }, 1000);
}
