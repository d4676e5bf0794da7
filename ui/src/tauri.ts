// The only door to the Rust side: typed wrappers over Tauri's global IPC object.
// The app talks to nothing else (the CSP forbids any other connection).

import { has, t } from "./i18n.js";

/** An error as the shell sends it: a stable code and a message for a human. */
export interface AppError {
  code: string;
  message: string;
}

interface TauriGlobal {
  core: { invoke(cmd: string, args?: Record<string, unknown>): Promise<unknown> };
  event: {
    listen(event: string, handler: (e: { payload: unknown }) => void): Promise<() => void>;
  };
}

declare global {
  interface Window {
    __TAURI__: TauriGlobal;
  }
}

/** Calls a shell command. Rejects with an {@link AppError}. */
export async function invoke<T>(cmd: string, args: Record<string, unknown> = {}): Promise<T> {
  try {
    return (await window.__TAURI__.core.invoke(cmd, args)) as T;
  } catch (e) {
    throw toAppError(e);
  }
}

/** Subscribes to a shell event; returns the unsubscribe function. */
export function listen<T>(event: string, handler: (payload: T) => void): Promise<() => void> {
  return window.__TAURI__.event.listen(event, (e) => handler(e.payload as T));
}

/** What to tell the user about a failure: a translated text for the codes the window knows,
 * else the shell's own message. */
export function errorText(e: unknown): string {
  const a = toAppError(e);
  const key = `err.${a.code}`;
  return has(key) ? t(key) : a.message;
}

/** Normalises whatever was thrown into an {@link AppError}. */
export function toAppError(e: unknown): AppError {
  if (e && typeof e === "object" && "code" in e && "message" in e) {
    return { code: String((e as AppError).code), message: String((e as AppError).message) };
  }
  return { code: "Internal", message: String(e) };
}
