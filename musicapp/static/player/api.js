// The public REST API (../shared/API.md), and the tokens that open it. A request that gets 401
// refreshes the access token once (one refresh in flight for every request waiting on it) and is
// sent again; a failed refresh signs out. Every failure is an ApiError with the envelope's words.

const KEY = "music.tokens";
const listeners = new Set();

export class ApiError extends Error {
  constructor(status, body) {
    const fields = body && body.errors ? Object.entries(body.errors).map(([f, texts]) => `${f}: ${texts.join(" ")}`) : [];
    const message = (body && body.message) || (status === 0 ? "The server cannot be reached." : `Request failed (${status}).`);
    super(fields.length && !message.includes(":") ? `${message} (${fields.join("; ")})` : message);
    this.status = status;
    this.code = body && body.code;
    this.errors = (body && body.errors) || {};
  }
}

export const session = {
  get tokens() {
    try { return JSON.parse(localStorage.getItem(KEY)) || null; } catch { return null; }
  },
  set tokens(value) {
    if (value) localStorage.setItem(KEY, JSON.stringify(value)); else localStorage.removeItem(KEY);
    listeners.forEach((fn) => fn(value));
  },
  get signedIn() { return Boolean(this.tokens); },
  onChange(fn) { listeners.add(fn); },
};

let refreshing = null;

// Tabs share the tokens (localStorage) and the server revokes a login whose rotated refresh
// token is used twice: one refresh at a time across tabs (a Web Lock), and a tab that finds the
// tokens already changed by another takes them instead of refreshing again.
function acrossTabs(fn) {
  return navigator.locks ? navigator.locks.request("music.refresh", fn) : fn();
}

async function refresh(refused) {
  if (!session.tokens) return false;
  refreshing ||= acrossTabs(async () => {
    const tokens = session.tokens;
    if (!tokens) return false;
    if (refused && tokens.accessToken !== refused) return true; // another tab refreshed meanwhile
    try {
      const body = await send("POST", "/api/auth/refresh", { refreshToken: tokens.refreshToken }, null);
      session.tokens = { ...tokens, accessToken: body.accessToken, refreshToken: body.refreshToken };
      return true;
    } catch (error) {
      if (error.status === 401 || error.status === 400) session.tokens = null;
      return false;
    }
  }).finally(() => { refreshing = null; });
  return refreshing;
}

async function send(method, path, body, token, keepalive = false) {
  const headers = { Accept: "application/json" };
  let payload;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) { headers["Content-Type"] = "application/json"; payload = JSON.stringify(body); }
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(path, { method, headers, body: payload, keepalive });
  } catch {
    throw new ApiError(0, null);
  }
  let data = null;
  if (response.status !== 204) {
    try { data = await response.json(); } catch { data = null; }
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

/** api("GET", "/api/song/list?limit=20") -> the envelope's body; throws ApiError.
 * keepalive: the request outlives the page (a play reported as the tab closes). */
export async function api(method, path, body, { keepalive = false } = {}) {
  const token = session.tokens && session.tokens.accessToken;
  try {
    return await send(method, path, body, token, keepalive);
  } catch (error) {
    if (error.status === 401 && token && (await refresh(token))) {
      return send(method, path, body, session.tokens.accessToken, keepalive);
    }
    throw error;
  }
}

/** A fresh access token for a WebSocket URL (refreshed first when it is about to expire). */
export async function socketToken() {
  const tokens = session.tokens;
  if (!tokens) return null;
  try {
    const claims = JSON.parse(atob(tokens.accessToken.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
    if (claims.exp * 1000 - Date.now() < 30_000) await refresh(tokens.accessToken);
  } catch {
    await refresh(tokens.accessToken);
  }
  return session.tokens && session.tokens.accessToken;
}

/** The URL of a WebSocket path of this origin, with a fresh access token; null when signed out. */
export async function socketUrl(path) {
  const token = await socketToken();
  if (!token) return null;
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${location.host}${path}?token=${encodeURIComponent(token)}`;
}

export function signIn(body) {
  session.tokens = { accessToken: body.accessToken, refreshToken: body.refreshToken, user: body.user };
}

export async function signOut() {
  const tokens = session.tokens;
  if (tokens) {
    try { await api("POST", "/api/auth/logout", { refreshToken: tokens.refreshToken }); } catch { /* gone anyway */ }
  }
  session.tokens = null;
}
