// The player: one <audio> element (seeking is HTTP Range on the media URL), a queue, volume,
// the user's 10-band equalizer through Web Audio, synced lyrics, and plays reported to
// /api/recently-played. A listening party (party.js) drives it through `remote`: then the
// buttons send commands and the session says what plays.

import { api, session } from "./api.js";
import { failed } from "./dom.js";

export const EQ_FREQUENCIES = [32, 64, 125, 250, 500, 1000, 2000, 4000, 8000, 16000];

class Player extends EventTarget {
  constructor() {
    super();
    this.audio = new Audio();
    this.audio.preload = "auto";
    this.queue = [];
    this.index = -1;
    this.context = { type: "other", id: "" };
    this.remote = null; // a party's controller: {play, pause, seek, next, prev} sending commands
    this.lyrics = null;
    this.graph = null;
    this.eq = { enabled: false, bands: EQ_FREQUENCIES.map(() => 0) };
    this.started = 0; // seconds of the current song heard so far (for the play report)
    this.lastTick = null;
    for (const name of ["play", "pause", "timeupdate", "durationchange", "volumechange", "ended", "error"]) {
      this.audio.addEventListener(name, () => this.emit(name));
    }
    this.audio.addEventListener("timeupdate", () => this.count());
    this.audio.addEventListener("ended", () => this.finished());
    this.audio.addEventListener("error", () => {
      if (this.audio.src) failed(new Error("This song could not be played."));
    });
  }

  emit(name) { this.dispatchEvent(new Event(name)); this.dispatchEvent(new Event("change")); }

  get song() { return this.queue[this.index] || null; }
  get playing() { return !this.audio.paused; }

  // --- Web Audio: the equalizer -----------------------------------------------------------
  ensureGraph() {
    if (this.graph || !window.AudioContext) return;
    const ctx = new AudioContext();
    const source = ctx.createMediaElementSource(this.audio);
    const filters = EQ_FREQUENCIES.map((frequency, i) => {
      const filter = ctx.createBiquadFilter();
      filter.type = i === 0 ? "lowshelf" : i === EQ_FREQUENCIES.length - 1 ? "highshelf" : "peaking";
      filter.frequency.value = frequency;
      filter.Q.value = 1.1;
      return filter;
    });
    [source, ...filters].reduce((from, to) => from.connect(to)).connect(ctx.destination);
    this.graph = { ctx, filters };
    this.applyEq();
  }

  setEqualizer(eq) {
    this.eq = { enabled: Boolean(eq && eq.enabled), bands: (eq && eq.bands) || EQ_FREQUENCIES.map(() => 0) };
    this.applyEq();
  }

  applyEq() {
    if (!this.graph) return;
    this.graph.filters.forEach((filter, i) => {
      filter.gain.value = this.eq.enabled ? Number(this.eq.bands[i] || 0) : 0;
    });
  }

  /** The gains in effect now, band by band (what the page shows and the tests read). */
  eqGains() {
    return this.graph ? this.graph.filters.map((f) => f.gain.value) : null;
  }

  // --- what plays -----------------------------------------------------------------------------
  async playList(songs, index = 0, context = { type: "other", id: "" }) {
    if (this.remote) return this.remote.play(songs[index]);
    this.report(true);
    this.queue = songs.slice();
    this.context = context;
    await this.load(index, true);
  }

  enqueue(song) {
    if (this.remote) return this.remote.enqueue(song);
    this.queue.push(song);
    if (this.index < 0) this.load(this.queue.length - 1, false);
    this.emit("queue");
  }

  async load(index, autoplay, at = 0) {
    const song = this.queue[index];
    if (!song) return;
    const changed = index !== this.index || this.audio.dataset.songId !== song.id;
    this.index = index;
    if (changed) {
      this.audio.src = song.file;
      this.audio.dataset.songId = song.id;
      this.started = 0;
      this.lyrics = null;
      this.loadLyrics(song);
      this.emit("song");
    }
    if (at) this.audio.currentTime = at;
    if (autoplay) await this.resume();
  }

  async resume() {
    // Web Audio starts only after a click or a key: before that (a party page reloaded while it
    // plays), the audio plays without the equalizer, which joins at the first gesture.
    if (!navigator.userActivation || navigator.userActivation.hasBeenActive) this.ensureGraph();
    if (this.graph && this.graph.ctx.state === "suspended") this.graph.ctx.resume();
    try {
      await this.audio.play();
    } catch (error) {
      if (error.name !== "AbortError") failed(new Error("The browser would not start playing: press play."));
    }
  }

  toggle() {
    if (this.remote) return this.playing ? this.remote.pause(this.audio.currentTime) : this.remote.play();
    if (this.playing) this.audio.pause(); else this.resume();
  }

  seek(seconds) {
    if (this.remote) return this.remote.seek(seconds);
    this.audio.currentTime = seconds;
  }

  next() {
    if (this.remote) return this.remote.next();
    if (this.index + 1 >= this.queue.length) return; // the last song plays on
    this.report(true);
    this.load(this.index + 1, true);
  }

  prev() {
    if (this.remote) return this.remote.prev();
    if (this.audio.currentTime > 3 || this.index <= 0) { this.audio.currentTime = 0; return; }
    this.report(true);
    this.load(this.index - 1, true);
  }

  setVolume(value) { this.audio.volume = Math.min(1, Math.max(0, value)); }

  finished() {
    this.report(false);
    if (this.remote) return this.remote.ended(this.song);
    if (this.index + 1 < this.queue.length) this.load(this.index + 1, true);
  }

  // --- plays reported, lyrics ---------------------------------------------------------------
  count() {
    const now = this.audio.currentTime;
    if (this.lastTick !== null && now > this.lastTick && now - this.lastTick < 1.5) this.started += now - this.lastTick;
    this.lastTick = now;
  }

  report(skipped, { keepalive = false } = {}) {
    const song = this.song;
    const heard = Math.round(this.started);
    this.started = 0;
    this.lastTick = null;
    if (!song || heard < 1 || !session.signedIn) return;
    api("POST", "/api/recently-played", {
      songId: song.id, playDuration: heard, skipped, contextType: this.context.type, contextId: this.context.id,
    }, { keepalive }).then(() => this.dispatchEvent(new Event("reported"))).catch(() => { /* a lost report costs a history line */ });
  }

  async loadLyrics(song) {
    try {
      const body = await api("GET", `/api/song/${song.id}/lyrics`);
      if (this.song && this.song.id === song.id) { this.lyrics = body.lyrics; this.emit("lyrics"); }
    } catch {
      this.lyrics = null;
    }
  }

  /** The index of the synced lyrics line sung now, or -1. */
  lyricLine() {
    const lines = this.lyrics && this.lyrics.synced;
    if (!lines) return -1;
    const t = this.audio.currentTime;
    let current = -1;
    lines.forEach((line, i) => { if (line.time <= t) current = i; });
    return current;
  }
}

export const player = new Player();
// A tab closed mid-song still reports what was heard.
window.addEventListener("pagehide", () => player.report(!player.audio.ended, { keepalive: true }));
document.addEventListener("pointerdown", () => player.playing && player.ensureGraph(), { once: true });
window.musicPlayer = player; // for the browser tests and the curious
