// The web player's pages: a hash router (#/album/<id> ...), each page built from the public API.

import { api, ApiError, session, signIn, signOut, socketUrl } from "./api.js";
import { cover, failed, fmt, h, toast } from "./dom.js";
import { CLOSED, party } from "./party.js";
import { EQ_FREQUENCIES, player } from "./player.js";

const CONFIG = JSON.parse(document.getElementById("player-config")?.textContent || "{}");
const main = document.getElementById("main");
const state = { liked: new Set(), playlists: [], settings: null, me: null, panel: null, live: null };
let navigation = new AbortController(); // aborted when the user goes to another page

// --- plumbing -----------------------------------------------------------------------------------

function go(path) { location.hash = `#/${path}`; }

function page(title, ...children) {
  // The same page drawn again (someone's live edit, or the user's own change) keeps the keyboard
  // on the control it was on, when the new page has it: a redraw between a focus and a key press
  // must not swallow the key. A new page takes the focus to its content.
  const again = page.hash === location.hash;
  const focused = again && main.contains(document.activeElement) ? sameControl(document.activeElement) : null;
  main.replaceChildren(h("h1", {}, title), ...children);
  document.title = `${title} · Music`;
  page.hash = location.hash;
  const control = focused && main.querySelector(focused);
  if (control) control.focus({ preventScroll: true });
  else if (!page.quiet) main.focus({ preventScroll: true });
}

/** A selector for this control in a page drawn again: by its label, id or name. */
function sameControl(node) {
  for (const attribute of ["aria-label", "id", "name"]) {
    const value = node.getAttribute(attribute);
    if (value) return `[${attribute}="${CSS.escape(value)}"]`;
  }
  return null;
}

/** True once the user has gone elsewhere since `hash` (a slow answer must not draw over it). */
function gone(hash) { return location.hash !== hash; }

function needSignIn() {
  page("Sign in to continue", h("p", {}, h("a", { href: "#/login" }, "Log in"), " or ", h("a", { href: "#/signup" }, "sign up"), "."));
}

function form(fields, submit, onSubmit, extra = []) {
  const node = h("form", { class: "card", novalidate: true }, ...fields, h("button", { class: "btn primary", type: "submit" }, submit), ...extra);
  node.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = node.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      await onSubmit(Object.fromEntries(new FormData(node)));
    } catch (error) {
      failed(error);
    } finally {
      button.disabled = false;
    }
  });
  return node;
}

function field(label, name, type = "text", attrs = {}) {
  return h("label", {}, label, h("input", { name, type, ...attrs }));
}

async function attempt(fn) {
  try { return await fn(); } catch (error) { failed(error); return undefined; }
}

// --- songs, anywhere --------------------------------------------------------------------------------

function songRow(song, list, index, context, extra = null) {
  const liked = state.liked.has(song.id);
  const row = h("li", { class: "song", dataset: { songId: song.id } },
    cover(song.image, ""),
    h("div", {},
      h("div", { class: "title" }, song.name),
      h("div", { class: "sub" },
        song.artist ? h("a", { href: `#/artist/${song.artist.id}` }, song.artist.name) : "",
        song.album ? [" · ", h("a", { href: `#/album/${song.album.id}` }, song.album.name)] : "")),
    h("span", { class: "muted" }, fmt(song.duration)),
    h("div", { class: "actions" },
      h("button", { class: "icon", title: `Play ${song.name}`, "aria-label": `Play ${song.name}`, onclick: () => player.playList(list, index, context) }, "▶"),
      h("button", { class: "icon", title: "Add to the queue", "aria-label": `Queue ${song.name}`, onclick: () => { player.enqueue(song); toast(`Queued: ${song.name}`); } }, "+"),
      session.signedIn ? h("button", { class: liked ? "icon on" : "icon", title: liked ? "Unlike" : "Like", "aria-label": `${liked ? "Unlike" : "Like"} ${song.name}`, "aria-pressed": String(liked), onclick: (e) => like(song, e.currentTarget) }, liked ? "♥" : "♡") : "",
      session.signedIn ? addToPlaylist(song) : "",
      extra));
  if (player.song && player.song.id === song.id) row.classList.add("playing");
  return row;
}

function songList(songs, context) {
  if (!songs.length) return h("p", { class: "muted" }, "Nothing here yet.");
  return h("ol", { class: "songs" }, songs.map((song, i) => songRow(song, songs, i, context)));
}

async function like(song, button) {
  const liked = state.liked.has(song.id);
  await attempt(async () => {
    await api(liked ? "DELETE" : "PUT", `/api/library/songs/${song.id}`);
    if (liked) state.liked.delete(song.id); else state.liked.add(song.id);
    if (button) { button.textContent = liked ? "♡" : "♥"; button.classList.toggle("on", !liked); button.setAttribute("aria-pressed", String(!liked)); }
    renderBar();
  });
}

function addToPlaylist(song) {
  const select = h("select", { "aria-label": `Add ${song.name} to a playlist`, class: "small" },
    h("option", { value: "" }, "+ playlist"),
    state.playlists.map((p) => h("option", { value: p.id }, p.name)));
  select.addEventListener("change", async () => {
    const id = select.value;
    select.value = "";
    if (!id) return;
    await attempt(async () => {
      const body = await api("POST", `/api/playlist/${id}/songs`, { songId: song.id });
      toast(`Added to ${body.playlist.name}`);
    });
  });
  return select;
}

function tiles(items, kind) {
  return h("div", { class: "grid" }, items.map((item) => h("a", { class: "tile", href: `#/${kind}/${item.id}` },
    cover(item.image || item.banner, item.name), h("div", { class: "name" }, item.name),
    h("div", { class: "muted" }, item.artist ? item.artist.name : item.owner ? item.owner.name : kind === "artist" ? "Artist" : ""))));
}

// --- pages ------------------------------------------------------------------------------------------

const routes = {
  "": async () => {
    const hash = location.hash;
    const [popular, albums] = await Promise.all([api("GET", "/api/song/popular"), api("GET", "/api/album/list?limit=12")]);
    if (gone(hash)) return; // the user went on (typed a search) while this loaded: not drawn over it
    const parts = [h("h2", {}, "Popular now"), songList(popular.songs.slice(0, 10), { type: "other", id: "" })];
    if (session.signedIn) {
      const recs = await api("GET", "/api/recommendations").catch((error) => ({ songs: [], error }));
      if (gone(hash)) return;
      parts.push(h("h2", {}, "Recommended for you"), recs.error
        ? h("p", { class: "error" }, `Recommendations could not be loaded: ${recs.error.message}`)
        : songList(recs.songs.slice(0, 10), { type: "other", id: "" }));
    }
    parts.push(h("h2", {}, "Albums"), tiles(albums.albums, "album"));
    page("Home", ...parts);
  },

  async search(query) {
    const q = new URLSearchParams(query).get("q") || "";
    document.getElementById("search").value = q;
    if (!q.trim()) return page("Search", h("p", { class: "muted" }, "Type in the box above: songs, albums, artists, playlists."));
    const hash = location.hash;
    const body = await api("GET", `/api/search?q=${encodeURIComponent(q)}&limit=10`);
    if (gone(hash)) return; // the user typed on: a later search draws the page
    const r = body.results;
    page(`Results for “${q}”`,
      h("p", { class: "muted", id: "engine" }, `Answered by ${body.engine === "meilisearch" ? "Meilisearch" : "PostgreSQL (full text + trigrams)"}`),
      h("h2", {}, "Songs"), songList(r.songs, { type: "search", id: q }),
      r.albums.length ? [h("h2", {}, "Albums"), tiles(r.albums, "album")] : "",
      r.artists.length ? [h("h2", {}, "Artists"), tiles(r.artists, "artist")] : "",
      r.playlists.length ? [h("h2", {}, "Playlists"), tiles(r.playlists, "playlist")] : "");
  },

  async album(id) {
    const { album } = await api("GET", `/api/album/${id}`);
    const liked = session.signedIn ? h("button", { class: "btn", onclick: async (e) => {
      const on = e.currentTarget.dataset.on === "1";
      await attempt(async () => { await api(on ? "DELETE" : "PUT", `/api/library/albums/${id}`); e.target.dataset.on = on ? "0" : "1"; e.target.textContent = on ? "♡ Like album" : "♥ Liked"; });
    }, dataset: { on: "0" } }, "♡ Like album") : "";
    page(album.name,
      h("div", { class: "hero" }, cover(album.image, album.name), h("div", {},
        h("p", { class: "muted" }, album.artist ? h("a", { href: `#/artist/${album.artist.id}` }, album.artist.name) : "", ` · ${album.songCount} songs`),
        h("p", {}, album.desc || ""),
        h("button", { class: "btn primary", onclick: () => player.playList(album.songs, 0, { type: "album", id }) }, "▶ Play"), " ", liked)),
      songList(album.songs, { type: "album", id }));
  },

  async artist(id) {
    const { artist } = await api("GET", `/api/artist/${id}`);
    const songs = await api("GET", `/api/song/list?artist=${id}&limit=50`);
    page(artist.name, h("p", { class: "muted" }, artist.bio || artist.desc || ""), h("h2", {}, "Songs"),
      songList(songs.songs, { type: "artist", id }), h("h2", {}, "Albums"), tiles(artist.albums || [], "album"));
  },

  async library() {
    if (!session.signedIn) return needSignIn();
    const [{ library }, recent] = await Promise.all([api("GET", "/api/library"), api("GET", "/api/recently-played?limit=20")]);
    state.liked = new Set(library.likedSongs.map((s) => s.id));
    page("Your library",
      h("h2", {}, "Liked songs"), songList(library.likedSongs, { type: "other", id: "" }),
      h("h2", {}, "Liked albums"), library.likedAlbums.length ? tiles(library.likedAlbums, "album") : h("p", { class: "muted" }, "No liked albums yet."),
      h("h2", {}, "Recently played"), h("ol", { class: "songs", id: "recent" }, recent.items.map((item, i) => songRow(item.song, recent.items.map((x) => x.song), i, { type: "other", id: "" }))));
  },

  async playlists() {
    if (!session.signedIn) return needSignIn();
    const [mine, pub] = await Promise.all([api("GET", "/api/playlist/list?limit=50"), api("GET", "/api/playlist/public?limit=12")]);
    state.playlists = mine.playlists;
    page("Playlists",
      form([field("Name", "name", "text", { required: true, maxlength: 100 }), field("Description", "desc"),
        h("label", { class: "row" }, h("span", {}, "Public"), h("input", { type: "checkbox", name: "isPublic" })),
        h("label", { class: "row" }, h("span", {}, "Collaborative"), h("input", { type: "checkbox", name: "collaborative" }))],
      "Create playlist", async (data) => {
        const body = await api("POST", "/api/playlist", { name: data.name, desc: data.desc || "", isPublic: data.isPublic === "on", collaborative: data.collaborative === "on" });
        state.playlists.unshift(body.playlist);
        go(`playlist/${body.playlist.id}`);
      }),
      h("h2", {}, "Yours"), mine.playlists.length ? tiles(mine.playlists, "playlist") : h("p", { class: "muted" }, "None yet."),
      h("h2", {}, "Public"), tiles(pub.playlists, "playlist"));
  },

  async playlist(id) {
    const hash = location.hash;
    const { playlist } = await api("GET", `/api/playlist/${id}`);
    if (gone(hash)) return;
    const songs = playlist.songs || [];
    const me = session.tokens && session.tokens.user;
    const owner = me && playlist.owner.id === me.id;
    const editor = owner || (me && playlist.collaborative && playlist.collaborators.some((c) => c.id === me.id));
    const list = h("ol", { class: "songs", id: "playlist-songs" });
    const move = (from, to) => attempt(async () => {
      const ids = songs.map((x) => x.id);
      ids.splice(to, 0, ...ids.splice(from, 1));
      await api("PUT", `/api/playlist/${id}/order`, { songIds: ids });
      routes.playlist(id);
    });
    songs.forEach((song, i) => {
      const row = songRow(song, songs, i, { type: "playlist", id },
        editor ? [
          i > 0 ? h("button", { class: "icon", "aria-label": `Move ${song.name} up`, onclick: () => move(i, i - 1) }, "↑") : "",
          i < songs.length - 1 ? h("button", { class: "icon", "aria-label": `Move ${song.name} down`, onclick: () => move(i, i + 1) }, "↓") : "",
          h("button", { class: "icon", title: "Remove", "aria-label": `Remove ${song.name}`, onclick: () => attempt(() => api("DELETE", `/api/playlist/${id}/songs/${song.id}`).then(() => routes.playlist(id))) }, "✕"),
        ] : null);
      if (editor) draggable(row, list, id);
      list.append(row);
    });
    page(playlist.name,
      h("div", { class: "hero" }, cover(playlist.banner, playlist.name), h("div", {},
        h("p", { class: "muted" }, `By ${playlist.owner.name} · ${playlist.songCount} songs · ${playlist.isPublic ? "public" : "private"}${playlist.collaborative ? " · collaborative" : ""}`),
        h("p", {}, playlist.desc || ""),
        h("button", { class: "btn primary", onclick: () => player.playList(songs, 0, { type: "playlist", id }) }, "▶ Play"), " ",
        owner ? h("button", { class: "btn", onclick: () => attempt(async () => { await api("PATCH", `/api/playlist/${id}`, { isPublic: !playlist.isPublic }); routes.playlist(id); }) }, playlist.isPublic ? "Make private" : "Share publicly") : "",
        playlist.isPublic ? h("p", { class: "muted" }, "Link: ", h("code", {}, `${location.origin}/#/playlist/${id}`)) : "")),
      editor ? h("p", { class: "muted" }, "Drag songs to reorder.") : "",
      list,
      owner ? [h("h2", {}, "Collaborators"),
        h("ul", {}, playlist.collaborators.map((c) => h("li", {}, c.name))),
        form([field("Invite by email", "email", "email", { required: true })], "Invite", async (data) => {
          await api("POST", `/api/playlist/${id}/collaborators`, { email: data.email });
          toast("Invitation sent (if that address has an account, they will see it).");
        })] : "");
    watchPlaylist(id);
  },

  party: async (code) => {
    if (!session.signedIn) return needSignIn();
    if (code) return partyPage(code);
    page("Listening party",
      h("p", { class: "muted" }, "Listen together: everyone hears the same second, shares a queue, chats and reacts."),
      form([field("Name", "name", "text", { maxlength: 100, placeholder: "Friday night" })], "Start a party", async (data) => {
        const body = await api("POST", "/api/session", data.name ? { name: data.name } : {});
        go(`party/${body.session.code}`);
      }),
      h("h2", {}, "Join one"),
      form([field("Code", "code", "text", { required: true, pattern: "[A-Za-z0-9]{4,12}", autocapitalize: "characters" })], "Join", async (data) => {
        await api("POST", `/api/session/${data.code.trim().toUpperCase()}/join`);
        go(`party/${data.code.trim().toUpperCase()}`);
      }));
  },

  async settings() {
    if (!session.signedIn) return needSignIn();
    const [{ user }, { settings }] = await Promise.all([api("GET", "/api/user/me"), api("GET", "/api/user/settings")]);
    state.settings = settings;
    const theme = h("select", { name: "theme", "aria-label": "Theme" }, ["dark", "light", "system"].map((t) => h("option", { value: t, selected: settings.theme === t }, t)));
    theme.addEventListener("change", () => saveSettings({ theme: theme.value }));
    const quality = h("select", { "aria-label": "Audio quality" }, ["low", "normal", "high", "lossless"].map((q) => h("option", { value: q, selected: settings.audioQuality === q }, q)));
    quality.addEventListener("change", () => saveSettings({ audioQuality: quality.value }));
    const eqOn = h("input", { type: "checkbox", checked: settings.equalizer.enabled, "aria-label": "Equalizer on" });
    const bands = EQ_FREQUENCIES.map((f, i) => h("input", { type: "range", min: -12, max: 12, step: 1, value: settings.equalizer.bands[i], "aria-label": `${f} Hz` }));
    const saveEq = () => saveSettings({ equalizer: { ...settings.equalizer, enabled: eqOn.checked, preset: "custom", bands: bands.map((b) => Number(b.value)) } });
    eqOn.addEventListener("change", saveEq);
    bands.forEach((b) => b.addEventListener("change", saveEq));
    page("Settings",
      form([field("Name", "name", "text", { value: user.name, maxlength: 100 }), h("label", {}, "Bio", h("textarea", { name: "bio", rows: 3 }, user.bio || ""))],
        "Save profile", async (data) => { await api("PATCH", "/api/user/me", { name: data.name, bio: data.bio }); toast("Profile saved."); }),
      h("h2", {}, "Appearance and sound"),
      h("div", { class: "card" }, h("label", {}, "Theme (applies at once)", theme), h("label", {}, "Audio quality", quality)),
      h("h2", {}, "Equalizer"),
      h("label", { class: "row" }, h("span", {}, "On"), eqOn),
      h("div", { class: "eq" }, bands.map((b, i) => h("label", {}, b, EQ_FREQUENCIES[i] >= 1000 ? `${EQ_FREQUENCIES[i] / 1000}k` : EQ_FREQUENCIES[i]))));
  },

  login: () => page("Log in", form([field("Email", "email", "email", { required: true, autocomplete: "username" }), field("Password", "password", "password", { required: true, autocomplete: "current-password" })],
    "Log in", async (data) => {
      const hash = location.hash;
      try {
        signIn(await api("POST", "/api/auth/login", data));
      } catch (error) {
        if (error.status === 403) { toast(error.message, { error: true }); return go(`verify?email=${encodeURIComponent(data.email)}`); }
        throw error;
      }
      await afterSignIn();
      if (!(await redeemInvite()) && !gone(hash)) go(""); // not if the user went elsewhere meanwhile
    }, [h("a", { href: "#/forgot" }, "Forgot your password?")])),

  signup: () => page("Sign up", form([field("Name", "name", "text", { required: true, maxlength: 100 }), field("Email", "email", "email", { required: true, autocomplete: "username" }), field("Password", "password", "password", { required: true, minlength: 8, autocomplete: "new-password" })],
    "Create account", async (data) => {
      const body = await api("POST", "/api/auth/register", data);
      toast(body.message || "Check your email for the code.");
      go(`verify?email=${encodeURIComponent(data.email)}`);
    })),

  verify: (query) => {
    const email = new URLSearchParams(query).get("email") || "";
    page("Enter your code", mailNotice(),
      form([field("Email", "email", "email", { value: email, required: true }), field("6-digit code", "otp", "text", { inputmode: "numeric", pattern: "[0-9]{6}", maxlength: 6, required: true, autocomplete: "one-time-code" })],
        "Verify", async (data) => {
          const hash = location.hash;
          signIn(await api("POST", "/api/auth/verify-otp", data));
          await afterSignIn();
          toast("Welcome!");
          if (!(await redeemInvite()) && !gone(hash)) go(""); // not if the user went elsewhere meanwhile
        }, [h("button", { class: "btn", type: "button", onclick: () => attempt(async () => { const b = await api("POST", "/api/auth/resend-otp", { email: main.querySelector("[name=email]").value }); toast(b.message); }) }, "Send a new code")]));
  },

  forgot: () => page("Forgot your password", form([field("Email", "email", "email", { required: true })], "Send a code", async (data) => {
    const body = await api("POST", "/api/auth/forgot-password", data);
    toast(body.message);
    go(`reset?email=${encodeURIComponent(data.email)}`);
  })),

  reset: (query) => page("Choose a new password", mailNotice(), form([field("Email", "email", "email", { value: new URLSearchParams(query).get("email") || "", required: true }), field("6-digit code", "otp", "text", { required: true }), field("New password", "password", "password", { required: true, minlength: 8 })],
    "Set password", async (data) => {
      const body = await api("POST", "/api/auth/reset-password", data);
      toast(body.message);
      go("login");
    })),
};

function mailNotice() {
  if (!CONFIG.mail && !CONFIG.devOutbox) return "";
  const show = CONFIG.devOutbox ? h("button", { class: "btn small", type: "button", onclick: () => attempt(async () => {
    const email = main.querySelector("[name=email]").value;
    const { mail } = await api("GET", `/api/dev/outbox?email=${encodeURIComponent(email)}`);
    if (mail.code) main.querySelector("[name=otp]").value = mail.code;
    toast(mail.code ? `Your code is ${mail.code} (shown because DEBUG is on).` : mail.subject);
  }) }, "Show my code (DEBUG)") : "";
  return h("p", { class: "notice", id: "mail-notice" }, CONFIG.mail || "", " ", show);
}

async function afterSignIn() {
  const [{ user }, library, mine, settings] = await Promise.all([
    api("GET", "/api/user/me"), api("GET", "/api/library"), api("GET", "/api/playlist/list?limit=100"), api("GET", "/api/user/settings"),
  ]);
  session.tokens = { ...session.tokens, user };
  state.liked = new Set(library.library.likedSongs.map((s) => s.id));
  state.playlists = mine.playlists;
  applySettings(settings.settings);
}

async function saveSettings(change) {
  await attempt(async () => {
    const body = await api("PATCH", "/api/user/settings", change);
    applySettings(body.settings);
    toast("Saved.");
  });
}

function applySettings(settings) {
  state.settings = settings;
  const theme = settings.theme === "system" ? (matchMedia("(prefers-color-scheme: light)").matches ? "light" : "dark") : settings.theme;
  document.documentElement.dataset.theme = theme;
  player.setEqualizer(settings.equalizer);
}

// --- live playlist ------------------------------------------------------------------------------------

function watchPlaylist(id, again = false) {
  if (state.live && state.live.id === id && state.live.socket.readyState <= WebSocket.OPEN) return;
  closeLive();
  if (!session.signedIn) return;
  const live = { id, socket: null };
  state.live = live;
  const redraw = () => {
    if (location.hash !== `#/playlist/${id}`) return;
    page.quiet = true; // someone else's edit: redraw without taking the focus
    routes.playlist(id).catch(failed).finally(() => { page.quiet = false; });
  };
  socketUrl(`/ws/playlist/${id}/`).then((url) => {
    if (state.live !== live || !url) return;
    live.socket = new WebSocket(url);
    // Back after a blip, or closed by the server for a resync (1012/1013): an edit may have been
    // missed meanwhile, so the page is read again.
    if (again) live.socket.addEventListener("open", redraw);
    live.socket.addEventListener("message", (event) => {
      const frame = JSON.parse(event.data);
      if (location.hash !== `#/playlist/${id}`) return;
      if (frame.type === "playlist:update") redraw();
      if (frame.type === "playlist:deleted") { toast("This playlist was deleted."); go("playlists"); }
    });
    live.socket.addEventListener("close", (event) => {
      // A blip: listen again while the page is still open (not when the socket was refused).
      if (state.live === live && ![4401, 4403, 4404, 4410].includes(event.code)) {
        setTimeout(() => { if (state.live === live) { state.live = null; watchPlaylist(id, true); } }, 2000);
      }
    });
  });
}

function closeLive() {
  const live = state.live;
  state.live = null;
  if (live && live.socket) live.socket.close(1000);
}

function draggable(row, list, playlistId) {
  row.draggable = true;
  row.addEventListener("dragstart", (e) => { e.dataTransfer.setData("text/plain", row.dataset.songId); row.classList.add("dragging"); });
  row.addEventListener("dragend", () => row.classList.remove("dragging"));
  row.addEventListener("dragover", (e) => { e.preventDefault(); row.classList.add("drop-target"); });
  row.addEventListener("dragleave", () => row.classList.remove("drop-target"));
  row.addEventListener("drop", async (e) => {
    e.preventDefault();
    row.classList.remove("drop-target");
    const moved = e.dataTransfer.getData("text/plain");
    const ids = [...list.children].map((li) => li.dataset.songId);
    const from = ids.indexOf(moved);
    const to = ids.indexOf(row.dataset.songId);
    if (from < 0 || to < 0 || from === to) return; // dropped where it was
    ids.splice(to, 0, ...ids.splice(from, 1)); // it takes the place of the row it was dropped on
    await attempt(async () => { await api("PUT", `/api/playlist/${playlistId}/order`, { songIds: ids }); routes.playlist(playlistId); });
  });
}

// --- the party page -------------------------------------------------------------------------------------

async function partyPage(code) {
  code = code.toUpperCase();
  const hash = location.hash;
  const { signal } = navigation;
  if (party.code !== code) await party.join(code);
  if (gone(hash)) return;
  const people = h("ul", { class: "people", id: "people" });
  const now = h("div", { id: "party-now" });
  const queue = h("ol", { class: "songs", id: "party-queue" });
  const votes = h("span", { class: "muted", id: "votes" });
  const chat = h("ol", { id: "chat" });
  const input = h("input", { name: "text", maxlength: 1000, placeholder: "Say something", "aria-label": "Chat message", autocomplete: "off" });
  const chatForm = h("form", {}, input, h("button", { class: "btn", type: "submit" }, "Send"));
  chatForm.addEventListener("submit", (e) => {
    e.preventDefault();
    if (input.value.trim() && party.send("chat:message", { text: input.value })) input.value = ""; // kept until sent
  });
  const ended = h("div", { id: "party-ended" });

  async function render() {
    const s = party.state;
    if (!s) return;
    const me = session.tokens.user;
    people.replaceChildren(...(s.participants || []).map((p) => h("li", {}, p.name, p.isHost ? " (host)" : "")));
    const current = s.currentSongId ? await party.song(s.currentSongId) : null;
    now.replaceChildren(current ? h("p", {}, "Now: ", h("strong", {}, current.name), current.artist ? ` — ${current.artist.name}` : "") : h("p", { class: "muted" }, "Nothing playing yet: add songs from anywhere with +, then press play."),
      h("p", { class: "muted" }, s.host && s.host.id === me.id ? "You host this party." : s.guestsCanControl ? "Everyone controls playback." : "The host controls playback; you can queue, vote and chat."));
    const songs = await Promise.all((s.queueIds || []).map((id) => party.song(id)));
    queue.replaceChildren(...songs.map((song, i) => songRow(song, songs, i, { type: "session", id: code })));
  }
  party.addEventListener("state", render, { signal });
  party.addEventListener("chat", (e) => { chat.append(h("li", {}, h("strong", {}, `${e.detail.user ? e.detail.user.name : "?"}: `), e.detail.text)); chat.scrollTop = chat.scrollHeight; }, { signal });
  party.addEventListener("reaction", (e) => { const n = h("div", { class: "floating" }, e.detail.emoji); document.body.append(n); setTimeout(() => n.remove(), 2000); }, { signal });
  party.addEventListener("votes", (e) => { votes.textContent = e.detail.skipped ? "Skipped by vote." : `Skip votes: ${e.detail.votes} of ${e.detail.needed}`; }, { signal });
  party.addEventListener("error", (e) => toast(e.detail.message, { error: true }), { signal });
  party.addEventListener("closed", (e) => {
    if (e.detail === 4410) return;
    toast(CLOSED[e.detail] || `The connection to the party closed (${e.detail}).`, { error: true });
    go("party");
  }, { signal });
  party.addEventListener("ended", async () => {
    party.lastCode = code;
    ended.replaceChildren(h("p", {}, "The party has ended."), h("button", { class: "btn primary", onclick: () => attempt(async () => {
      const recap = await party.recap();
      if (recap.playlistId) go(`playlist/${recap.playlistId}`); else toast("Nothing was played, so there is no recap.");
    }) }, "Save the recap playlist"));
  }, { signal });

  const isHost = () => party.state && party.state.host && party.state.host.id === session.tokens.user.id;
  page(`Party ${code}`,
    h("p", { class: "muted" }, "Share the code ", h("strong", { id: "party-code" }, code), " — or ",
      h("button", { class: "btn small", onclick: (e) => attempt(async () => {
        const b = await api("POST", `/api/session/${code}/invite`);
        const link = h("input", { type: "text", readonly: true, value: b.invite.url, "aria-label": "Invite link", size: 40 });
        e.target.replaceWith(link);
        link.select();
        const copied = navigator.clipboard ? await navigator.clipboard.writeText(b.invite.url).then(() => true, () => false) : false;
        toast(copied ? "Invite link copied." : "Invite link made: copy it from the box.");
      }) }, "make an invite link")),
    h("div", { class: "party" },
      h("div", {}, now,
        h("div", { class: "buttons" },
          h("button", { class: "btn primary", onclick: () => player.toggle() }, "Play / pause"), " ",
          h("button", { class: "btn", onclick: () => party.send("vote:skip", party.state && party.state.currentSongId ? { songId: party.state.currentSongId } : {}) }, "Vote to skip"), " ", votes),
        h("p", { class: "reactions" }, ["🔥", "🎉", "❤️", "😂", "👏"].map((emoji) => h("button", { class: "icon", "aria-label": `React ${emoji}`, onclick: () => party.send("reaction:add", { emoji }) }, emoji))),
        h("h2", {}, "Up next"), queue, ended),
      h("div", {}, h("h2", {}, "Who is here"), people, h("h2", {}, "Chat"), h("div", { class: "chat" }, chat, chatForm),
        h("p", {}, h("button", { class: "btn small", onclick: () => attempt(async () => {
          if (isHost()) { await api("POST", `/api/session/${code}/end`); } else { await api("POST", `/api/session/${code}/leave`); party.leave(); go("party"); }
        }) }, "Leave / end")))));
  render();
}

// --- the player bar and the side panel ------------------------------------------------------------------

const bar = document.getElementById("bar");
const panel = document.getElementById("panel");

function renderBar() {
  const focused = bar.contains(document.activeElement) ? document.activeElement.dataset.key : null;
  const song = player.song;
  const liked = song && state.liked.has(song.id);
  const seek = h("input", { type: "range", min: 0, max: Math.max(1, player.audio.duration || (song && song.duration) || 1), step: 0.1, value: player.audio.currentTime, "aria-label": "Seek", id: "seek" });
  seek.addEventListener("change", () => player.seek(Number(seek.value)));
  const volume = h("input", { type: "range", min: 0, max: 1, step: 0.05, value: player.audio.volume, "aria-label": "Volume" });
  volume.addEventListener("input", () => player.setVolume(Number(volume.value)));
  bar.replaceChildren(
    h("div", { class: "now" }, cover(song && song.image, ""), h("div", { style: "min-width:0" },
      h("div", { class: "title", id: "now-title" }, song ? song.name : "Nothing playing"),
      h("div", { class: "muted" }, song && song.artist ? song.artist.name : party.code ? `Party ${party.code}` : ""))),
    h("div", { class: "controls" },
      h("div", { class: "buttons" },
        h("button", { class: "icon", "aria-label": "Previous", dataset: { key: "prev" }, onclick: () => player.prev() }, "◀◀"),
        h("button", { class: "play", id: "play", dataset: { key: "play" }, "aria-label": player.playing ? "Pause" : "Play", onclick: () => player.toggle() }, player.playing ? "❚❚" : "▶"),
        h("button", { class: "icon", "aria-label": "Next", dataset: { key: "next" }, onclick: () => player.next() }, "▶▶")),
      h("div", { class: "seek" }, h("span", { id: "elapsed" }, fmt(player.audio.currentTime)), seek, h("span", {}, fmt(player.audio.duration || (song && song.duration))))),
    h("div", { class: "extra" },
      song && session.signedIn ? h("button", { class: liked ? "icon on" : "icon", "aria-label": liked ? "Unlike" : "Like", onclick: () => like(song) }, liked ? "♥" : "♡") : "",
      h("button", { class: state.panel === "lyrics" ? "icon on" : "icon", "aria-label": "Lyrics", dataset: { key: "lyrics" }, "aria-pressed": String(state.panel === "lyrics"), onclick: () => togglePanel("lyrics") }, "♪"),
      h("button", { class: state.panel === "queue" ? "icon on" : "icon", "aria-label": "Queue", dataset: { key: "queue" }, "aria-pressed": String(state.panel === "queue"), onclick: () => togglePanel("queue") }, "☰"),
      h("span", { class: "muted", "aria-hidden": "true" }, "Vol"), volume));
  if (focused) bar.querySelector(`[data-key="${focused}"]`)?.focus(); // a keyboard user stays where they were
}

function tick() {
  const seek = document.getElementById("seek");
  if (seek && document.activeElement !== seek) seek.value = player.audio.currentTime;
  const elapsed = document.getElementById("elapsed");
  if (elapsed) elapsed.textContent = fmt(player.audio.currentTime);
  if (state.panel === "lyrics") highlightLyrics();
}

function togglePanel(kind) {
  state.panel = state.panel === kind ? null : kind;
  document.body.classList.toggle("panel-open", Boolean(state.panel));
  panel.hidden = !state.panel;
  renderPanel();
  renderBar();
}

function renderPanel() {
  if (!state.panel) return;
  if (state.panel === "queue") {
    panel.replaceChildren(h("h2", {}, "Queue"), h("ol", { class: "songs" }, player.queue.map((song, i) => {
      const row = songRow(song, player.queue, i, player.context);
      if (i === player.index) row.classList.add("playing");
      return row;
    })));
    return;
  }
  const lyrics = player.lyrics;
  panel.replaceChildren(h("h2", {}, "Lyrics"), !lyrics ? h("p", { class: "muted" }, "No lyrics for this song.")
    : lyrics.synced ? h("div", { class: "lyrics", id: "lyrics" }, lyrics.synced.map((line) => h("p", {}, line.text || "♪")))
      : h("div", { class: "lyrics" }, lyrics.plain.split("\n").map((line) => h("p", {}, line))));
  highlightLyrics();
}

function highlightLyrics() {
  const box = document.getElementById("lyrics");
  if (!box) return;
  const current = player.lyricLine();
  [...box.children].forEach((p, i) => {
    const on = i === current;
    if (on && !p.classList.contains("current")) p.scrollIntoView({ block: "center", behavior: "smooth" });
    p.classList.toggle("current", on);
  });
}

// --- start --------------------------------------------------------------------------------------------

function renderAccount() {
  const nav = document.getElementById("account");
  const user = session.tokens && session.tokens.user;
  nav.replaceChildren(...(user
    ? [h("a", { href: "#/settings" }, user.name), h("button", { class: "btn small", onclick: async () => { party.leave(); await signOut(); go("login"); } }, "Sign out")]
    : [h("a", { class: "btn small", href: "#/login" }, "Log in"), h("a", { class: "btn small primary", href: "#/signup" }, "Sign up")]));
}

async function route() {
  navigation.abort();
  navigation = new AbortController();
  const [path, query = ""] = location.hash.replace(/^#\/?/, "").split("?");
  const [name, id] = path.split("/");
  if (state.live && !(name === "playlist" && id === state.live.id)) closeLive();
  document.querySelectorAll(".side a").forEach((a) => a.classList.toggle("active", a.getAttribute("href") === `#/${name}`));
  const view = routes[name] || routes[""];
  const hash = location.hash;
  try {
    await view(id || query, query);
  } catch (error) {
    if (gone(hash)) return; // a page the user has left: its failure is not drawn over the next
    if (error instanceof ApiError && error.status === 404) page("Not found", h("p", { class: "muted" }, error.message));
    else { page("Something went wrong", h("p", { class: "error" }, error.message)); failed(error); }
  }
}

let searchTimer = null;
document.getElementById("search").addEventListener("input", (e) => {
  clearTimeout(searchTimer);
  const q = e.target.value;
  searchTimer = setTimeout(() => go(`search?q=${encodeURIComponent(q)}`), 200);
});

document.addEventListener("keydown", (e) => {
  if (e.target.closest("input, textarea, select, button, [contenteditable]")) return;
  if (e.code === "Space") { e.preventDefault(); player.toggle(); }
  if (e.code === "ArrowRight") player.seek(player.audio.currentTime + 5);
  if (e.code === "ArrowLeft") player.seek(Math.max(0, player.audio.currentTime - 5));
});

player.addEventListener("timeupdate", tick);
for (const name of ["song", "play", "pause", "durationchange", "queue"]) player.addEventListener(name, () => { renderBar(); renderPanel(); });
player.addEventListener("lyrics", renderPanel);
session.onChange(renderAccount);
window.addEventListener("hashchange", route);

document.querySelector(".skip").addEventListener("click", (e) => { e.preventDefault(); main.focus(); });

/** An invite link (/?invite=...): join its party once signed in (kept across the sign-in). */
async function redeemInvite() {
  const invite = new URLSearchParams(location.search).get("invite") || sessionStorage.getItem("music.invite");
  if (!invite) return false;
  if (!session.signedIn) {
    sessionStorage.setItem("music.invite", invite);
    history.replaceState(null, "", "/#/login");
    toast("Log in or sign up to join the party you were invited to.");
    return false;
  }
  sessionStorage.removeItem("music.invite");
  history.replaceState(null, "", "/");
  const joined = await attempt(() => api("POST", "/api/session/invite/join", { invite }));
  if (joined) { go(`party/${joined.session.code}`); return true; }
  return false;
}

(async () => {
  renderAccount();
  renderBar();
  if (session.signedIn) await attempt(afterSignIn);
  renderAccount();
  if (!(await redeemInvite())) await route();
})();
