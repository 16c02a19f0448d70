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

async function refresh() {
  const tokens = session.tokens;
  if (!tokens) return false;
  refreshing ||= (async () => {
    try {
      const body = await send("POST", "/api/auth/refresh", { refreshToken: tokens.refreshToken }, null);
      session.tokens = { ...tokens, accessToken: body.accessToken, refreshToken: body.refreshToken };
      return true;
    } catch (error) {
      if (error.status === 401 || error.status === 400) session.tokens = null;
      return false;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

async function send(method, path, body, token) {
  const headers = { Accept: "application/json" };
  let payload;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) { headers["Content-Type"] = "application/json"; payload = JSON.stringify(body); }
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(path, { method, headers, body: payload });
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

/** api("GET", "/api/song/list?limit=20") -> the envelope's body; throws ApiError. */
export async function api(method, path, body) {
  const token = session.tokens && session.tokens.accessToken;
  try {
    return await send(method, path, body, token);
  } catch (error) {
    if (error.status === 401 && token && (await refresh())) {
      return send(method, path, body, session.tokens.accessToken);
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
    if (claims.exp * 1000 - Date.now() < 30_000) await refresh();
  } catch {
    await refresh();
  }
  return session.tokens && session.tokens.accessToken;
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
