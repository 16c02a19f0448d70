// A listening party over the session WebSocket (docs/WEBSOCKETS.md). The session says what
// plays; this page's player follows it: the clock offset from time:ping, `currentTime + (now -
// serverTime)` for the position, and `startAt` for a start shared by everyone. The page's
// buttons send commands instead of acting locally.

import { api, socketUrl } from "./api.js";
import { player } from "./player.js";

const FINAL = new Set([4401, 4403, 4404, 4409, 4410]);
export const CLOSED = {
  4401: "Your sign-in has expired: log in again.",
  4403: "The host removed you from this party (or this page's address is not allowed).",
  4404: "No party has that code, or it has ended.",
  4409: "This party is full.",
  4410: "The party has ended.",
};

class Party extends EventTarget {
  constructor() {
    super();
    this.reset();
  }

  reset() {
    this.code = null;
    this.socket = null;
    this.state = null;
    this.revision = -1;
    this.offset = 0; // server clock minus ours, seconds
    this.rtt = 0.1;
    this.chat = [];
    this.votes = null;
    this.ended = null;
    this.startTimer = null;
    this.reportTimer = null;
    this.songs = new Map();
    this.closedWith = null;
  }

  emit(name, detail) { this.dispatchEvent(new CustomEvent(name, { detail })); this.dispatchEvent(new Event("change")); }

  serverNow() { return Date.now() / 1000 + this.offset; }

  /** Where the session's song is now, by the session's own clock (what every page computes). */
  position() {
    const s = this.state;
    if (!s || !s.currentSongId) return 0;
    return s.isPlaying ? s.currentTime + (this.serverNow() - s.serverTime) : s.currentTime;
  }

  async join(code) {
    this.leave();
    this.code = code.toUpperCase();
    await this.connect();
  }

  async connect() {
    const url = this.code && (await socketUrl(`/ws/session/${this.code}/`));
    if (!url || !this.code) return;
    const socket = new WebSocket(url);
    this.socket = socket;
    socket.addEventListener("open", () => this.measureClock());
    socket.addEventListener("message", (event) => this.receive(JSON.parse(event.data)));
    socket.addEventListener("close", (event) => {
      if (this.socket !== socket) return;
      this.closedWith = event.code;
      if (FINAL.has(event.code) || !this.code) { this.detach(); this.emit("closed", event.code); return; }
      // A network blip, a restart, a busy server or maintenance (1013): back after a pause that
      // grows until the session's state arrives again, spread at random so that the clients of a
      // restarted server do not all come back in the same instant (a join storm).
      this.retry = Math.min(10, (this.retry || 1) * 2); // 1 s, 2 s, 4 s, then 5 s (x0.5-1.5)
      this.emit("reconnecting", this.retry);
      setTimeout(() => this.socket === socket && this.connect(), this.retry * 500 * (0.5 + Math.random()));
    });
    player.remote = this.controls();
  }

  leave() {
    const socket = this.socket;
    this.code = null;
    this.socket = null;
    if (socket) socket.close(1000);
    this.detach();
    this.reset();
  }

  detach() {
    clearTimeout(this.startTimer);
    clearInterval(this.reportTimer);
    player.remote = null;
  }

  /** Sends a frame; false (and an error event saying so) while the socket is reconnecting. */
  send(type, data = {}) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify({ type, data }));
      return true;
    }
    this.emit("error", { code: "offline", message: "Reconnecting to the party: try again in a moment." });
    return false;
  }

  controls() {
    return {
      play: (song) => this.send("playback:play", song ? { songId: song.id } : {}),
      pause: (at) => this.send("playback:pause", { currentTime: Math.max(0, at) }),
      seek: (at) => this.send("playback:seek", { currentTime: Math.max(0, at) }),
      next: () => this.send("playback:next"),
      prev: () => this.send("playback:prev"),
      enqueue: (song) => this.send("queue:add", { songId: song.id }),
      ended: (song) => song && this.send("playback:ended", { songId: song.id }),
    };
  }

  // --- the clock --------------------------------------------------------------------------------
  measureClock() {
    this.pings = [];
    for (let i = 0; i < 5; i += 1) setTimeout(() => this.send("time:ping", { clientTime: Date.now() / 1000 }), i * 120);
    clearInterval(this.reportTimer);
    this.reportTimer = setInterval(() => this.report(), 5000);
  }

  pong({ clientTime, serverTime }) {
    const now = Date.now() / 1000;
    this.pings.push({ rtt: now - clientTime, offset: serverTime - (clientTime + now) / 2 });
    const best = this.pings.reduce((a, b) => (b.rtt < a.rtt ? b : a));
    this.offset = best.offset;
    this.rtt = best.rtt;
    if (this.pings.length === 5) this.follow();
  }

  report() {
    if (!this.state || !this.state.isPlaying || player.audio.paused) return;
    this.send("sync:report", { position: player.audio.currentTime, offset: this.offset, rtt: Math.max(0, this.rtt) });
  }

  // --- what the server says -----------------------------------------------------------------------
  receive({ type, data }) {
    switch (type) {
      case "session:state":
        this.retry = 1; // joined: the next blip starts from a short pause again
        this.state = data;
        this.revision = data.revision;
        this.follow();
        this.emit("state");
        break;
      case "playback:update":
        if (data.revision < this.revision && !data.resync) return; // an older change arriving late
        this.revision = Math.max(this.revision, data.revision);
        this.state = { ...this.state, ...data };
        this.follow();
        this.emit("state");
        break;
      case "participant:joined":
      case "participant:left":
        this.refresh();
        break;
      case "host:changed":
        this.state = { ...this.state, host: data.host };
        this.emit("state");
        break;
      case "chat:message":
        this.chat.push(data);
        this.emit("chat", data);
        break;
      case "reaction:added":
        this.emit("reaction", data);
        break;
      case "vote:update":
        this.votes = data;
        this.emit("votes", data);
        break;
      case "time:pong":
        this.pong(data);
        break;
      case "session:ended":
        this.ended = data.reason;
        this.emit("ended", data.reason);
        break;
      case "error":
        this.emit("error", data);
        break;
      default:
        break;
    }
  }

  async refresh() {
    try {
      const body = await api("GET", `/api/session/${this.code}`);
      this.state = { ...this.state, participants: body.session.participants, host: body.session.host };
      this.emit("state");
    } catch { /* the socket's next state says it */ }
  }

  async song(id) {
    if (!this.songs.has(id)) this.songs.set(id, api("GET", `/api/song/${id}`).then((b) => b.song));
    return this.songs.get(id);
  }

  /** Make this page's player play what the session plays, where it plays it. */
  async follow() {
    const s = this.state;
    clearTimeout(this.startTimer);
    if (!s || !s.currentSongId) { player.audio.pause(); return; }
    const song = await this.song(s.currentSongId);
    if (this.state !== s) return; // a newer state came meanwhile
    const fresh = player.audio.dataset.songId !== song.id;
    if (fresh) {
      player.report(true); // the song this page was playing (the party moved on)
      player.queue = [song];
      player.context = { type: "session", id: this.code };
      await player.load(0, false);
      if (this.state !== s) return;
      player.audio.addEventListener("canplaythrough", () => this.socket && this.socket.readyState === WebSocket.OPEN
        && this.socket.send(JSON.stringify({ type: "playback:ready", data: { songId: song.id } })), { once: true });
    }
    const at = this.position();
    if (!s.isPlaying) {
      player.audio.pause();
      player.audio.currentTime = s.currentTime;
      return;
    }
    if (at < 0) { // a start ahead: be there, and start at the instant
      player.audio.pause();
      player.audio.currentTime = s.currentTime;
      this.startTimer = setTimeout(() => this.follow(), -at * 1000);
      return;
    }
    if (fresh || Math.abs(player.audio.currentTime - at) > 0.15) player.audio.currentTime = at;
    if (player.audio.paused) await player.resume();
    if (fresh && this.state === s) { // buffering took a while: where the party is now
      player.audio.addEventListener("playing", () => {
        if (this.state === s && Math.abs(player.audio.currentTime - this.position()) > 0.15) player.audio.currentTime = this.position();
      }, { once: true });
    }
  }

  async recap() {
    const body = await api("POST", `/api/session/${this.code || this.lastCode}/recap`);
    return body.recap;
  }
}

export const party = new Party();
window.musicParty = party;
