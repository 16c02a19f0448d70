"""The web player at / (musicapp/static/player/), in Debian's chromium, against the app served
by uvicorn as `make run` serves it: one user's whole journey; two pages in one party on two
server processes staying in step; a playlist edited in one page showing in the other.

SCREENSHOTS=1 also saves the main screens under docs/screenshots/ (shown in the README)."""

from __future__ import annotations

import os
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from library.models import Lyrics
from library.services import lyrics_save
from musicapp.adapters import media
from musicapp.platform import realtime
from search import services as search
from tests.factories import PASSWORD, AlbumFactory, ArtistFactory, SongFactory, UserFactory
from tests.support.media import image_bytes, wav_bytes
from tests.support.servers import app_server, job_worker

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = Path(django_settings.BASE_DIR) / "docs" / "screenshots"


def shot(page, name: str) -> None:
    if os.environ.get("SCREENSHOTS") == "1":
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"))


@pytest.fixture
def catalog(settings, tmp_path):
    """Three real, playable songs on one album, the first with synced lyrics."""
    settings.MEDIA_ROOT = tmp_path / "media"
    artist = ArtistFactory(name="The Lamplighters")
    cover_key = media.store_generated_image(image_bytes("WEBP", (300, 300)), folder="covers")
    album = AlbumFactory(name="Low Lanterns", artist=artist, image=cover_key)
    songs = []
    for n, name in enumerate(["Porch Light", "Moth Waltz", "Night Bus"], start=1):
        key = media.store_audio(wav_bytes(40.0), folder="audio", ext="wav")
        songs.append(SongFactory(name=name, album=album, artist=artist, file=key, duration=40.0, track_number=n))
    lyrics_save(
        lyrics=Lyrics(
            song=songs[0],
            plain="Porch light on\nMoths come along",
            synced_lrc="[00:00.50]Porch light on\n[00:20.00]Moths come along",
        )
    )
    search.reindex()  # the factories wrote the rows directly; the search documents follow
    return songs


@pytest.fixture
def mail_dir(tmp_path):
    return tmp_path / "mail"


@pytest.fixture
def server(catalog, static_root, mail_dir):
    env = {
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
        "MEDIA_ROOT": str(django_settings.MEDIA_ROOT),
    }
    with app_server(static_root=static_root, env=env) as url, job_worker(env):  # the worker sends the mail
        yield url


def watch_console(page) -> list[str]:
    """Script errors, and failed requests but the 404s that are answers: a song with no lyrics,
    the page of a playlist that does not exist (chromium logs each as "Failed to load resource")."""
    errors: list[str] = []
    expected = re.compile(r"/api/song/[0-9a-f]{24}/lyrics$|/api/playlist/f{24}$")

    def response(answer) -> None:
        if answer.status >= 400 and not (answer.status == 404 and expected.search(answer.url)):
            errors.append(f"{answer.status} {answer.url}")

    def console(message) -> None:
        if message.type == "error" and "Failed to load resource" not in message.text:  # those are in `response`
            errors.append(message.text)

    page.on("console", console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("response", response)
    return errors


def code_from_mail(mail_dir: Path, email: str) -> str:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        for path in sorted(mail_dir.glob("*.log")) if mail_dir.exists() else []:
            text = path.read_text()
            if email in text and (found := re.search(r"\b(\d{6})\b", text)):
                return found.group(1)
        time.sleep(0.2)
    raise AssertionError("no code was mailed")


def sign_in(page, server: str, user) -> None:
    page.goto(f"{server}/#/login")
    page.fill("[name=email]", user.email)
    page.fill("[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector(f"#account >> text={user.name}")
    page.wait_for_selector("h1:has-text('Home')")  # where a sign-in lands


def test_a_newcomer_signs_up_plays_music_and_makes_a_playlist(server, page, catalog, mail_dir):
    errors = watch_console(page)
    page.goto(server)
    page.wait_for_selector("h1:has-text('Home')")
    shot(page, "home")

    # Sign up; the page says where a local run's email went; the code from it lets them in.
    page.click("#account >> text=Sign up")
    page.fill("[name=name]", "Nia Newcomer")
    page.fill("[name=email]", "nia@example.com")
    page.fill("[name=password]", "a long enough passphrase")
    page.click("button[type=submit]")
    page.wait_for_selector("h1:has-text('Enter your code')")
    assert str(mail_dir) in page.inner_text("#mail-notice")
    held: list = []  # the home page's recommendations, held back until the search has drawn
    page.route("**/api/recommendations", lambda route: held.append(route))
    page.fill("[name=otp]", code_from_mail(mail_dir, "nia@example.com"))
    page.click("button[type=submit]")
    page.wait_for_selector("#account >> text=Nia Newcomer")

    # Search as you type, and which engine answered; typed while the home page (where a new
    # account lands) is still loading, whose late answer must not draw over the results.
    while not held:
        page.wait_for_timeout(50)
    page.fill("#search", "porch")
    page.wait_for_selector("#engine")
    held[0].continue_()
    page.unroute("**/api/recommendations")
    page.wait_for_timeout(500)
    assert page.inner_text("h1").startswith("Results for")
    assert "PostgreSQL" in page.inner_text("#engine")
    page.click("[aria-label='Play Porch Light']")
    page.wait_for_function("window.musicPlayer.playing && window.musicPlayer.audio.currentTime > 1")
    assert page.inner_text("#now-title") == "Porch Light"

    # Seek (the audio is fetched with HTTP Range), and the synced lyrics follow the song.
    page.click("[aria-label=Lyrics]")
    page.wait_for_selector("#lyrics p.current:has-text('Porch light on')")
    page.evaluate("window.musicPlayer.seek(21)")
    page.wait_for_selector("#lyrics p.current:has-text('Moths come along')")
    shot(page, "playing")

    # Like it; next song: the first is reported to recently played.
    page.click(".bar [aria-label=Like]")
    page.wait_for_selector(".bar [aria-label=Unlike]")
    page.goto(f"{server}/#/album/{catalog[0].album_id}")
    page.click("text=▶ Play")
    page.wait_for_function("window.musicPlayer.audio.currentTime > 1.5")
    reported = page.evaluate(
        "new Promise((ok) => { window.musicPlayer.addEventListener('reported', () => ok(true), {once: true});"
        " window.musicPlayer.next(); })"
    )
    assert reported is True
    page.wait_for_function("window.musicPlayer.song.name === 'Moth Waltz'")
    page.goto(f"{server}/#/library")
    page.wait_for_selector("#recent >> text=Porch Light")
    assert "Porch Light" in page.inner_text("main")  # and among the liked songs

    # A playlist: create it, add a song from anywhere, see it there.
    page.goto(f"{server}/#/playlists")
    page.fill("[name=name]", "Road trip")
    page.click("button:has-text('Create playlist')")
    page.wait_for_selector("h1:has-text('Road trip')")
    page.goto(f"{server}/#/album/{catalog[0].album_id}")
    page.select_option("[aria-label='Add Night Bus to a playlist']", label="Road trip")
    page.wait_for_selector(".toast:has-text('Added to Road trip')")
    page.goto(f"{server}/#/playlists")
    page.click(".tile:has-text('Road trip')")
    page.wait_for_selector("#playlist-songs >> text=Night Bus")
    shot(page, "playlist")

    # Settings: the theme applies at once; the equalizer is applied to what plays.
    page.goto(f"{server}/#/settings")
    page.select_option("[aria-label=Theme]", "light")
    page.wait_for_function("document.documentElement.dataset.theme === 'light'")
    page.check("[aria-label='Equalizer on']")
    page.fill("[aria-label='1000 Hz']", "6")
    page.dispatch_event("[aria-label='1000 Hz']", "change")
    page.wait_for_function("(window.musicPlayer.eqGains() || [])[5] === 6")
    shot(page, "settings")

    # An access token that stopped working is refreshed without a word (the refresh token is good).
    page.evaluate(
        "() => { const t = JSON.parse(localStorage.getItem('music.tokens'));"
        " t.accessToken = t.accessToken.slice(0, -4) + 'AAAA';"
        " localStorage.setItem('music.tokens', JSON.stringify(t)); }"
    )
    page.goto(f"{server}/#/library")
    page.wait_for_selector("#recent >> text=Porch Light")
    refused = [e for e in errors if e.startswith("401 ")]
    assert len(refused) == 2  # the library and the history, refused once each, then sent again
    errors[:] = [e for e in errors if e not in refused]

    # A phone's width: one column, nothing wider than the screen.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{server}/#/album/{catalog[0].album_id}")
    page.wait_for_selector("h1:has-text('Low Lanterns')")
    too_wide = page.evaluate(
        "[...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > innerWidth + 1)"
        ".map((e) => e.tagName + '.' + e.className).slice(0, 5)"
    )
    assert too_wide == [] and page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    shot(page, "phone")
    page.set_viewport_size({"width": 1280, "height": 800})

    # An error is shown in words from the envelope.
    page.goto(f"{server}/#/playlist/{'f' * 24}")
    page.wait_for_selector("h1:has-text('Not found')")

    page.click("text=Sign out")
    page.wait_for_selector("#account >> text=Log in")
    assert errors == []


def test_two_pages_in_one_party_on_two_processes_stay_in_step(catalog, static_root, browser):
    host, guest = UserFactory(name="Hana Host"), UserFactory(name="Gus Guest")
    env = {"MEDIA_ROOT": str(django_settings.MEDIA_ROOT)}
    with app_server(static_root=static_root, env=env) as one, app_server(static_root=static_root, env=env) as two:
        pages = []
        for _ in range(2):
            context = browser.new_context()
            page = context.new_page()
            page.set_default_timeout(20_000)
            pages.append(page)
        h, g = pages
        errors = [watch_console(p) for p in pages]
        sign_in(h, one, host)
        h.goto(f"{one}/#/party")
        h.click("button:has-text('Start a party')")
        h.wait_for_selector("#party-code")
        code = h.inner_text("#party-code")
        # The guest comes by an invite link, signed out: log in, and they are in the party.
        h.click("button:has-text('make an invite link')")
        link = h.input_value("[aria-label='Invite link']")
        g.goto(link.replace(one, two))
        g.wait_for_selector("h1:has-text('Log in')")
        g.fill("[name=email]", guest.email)
        g.fill("[name=password]", PASSWORD)
        g.click("button[type=submit]")
        g.wait_for_selector(f"h1:has-text('Party {code}')")
        h.wait_for_selector("#people >> text=Gus Guest")
        shot(h, "party")

        def in_step():
            # Both pages' audio positions at one instant (each read with its clock, moved to the
            # same wall time), against the party's own computed position.
            read = "() => [window.musicPlayer.audio.currentTime, Date.now() / 1000, window.musicPlayer.playing]"
            (a, at_a, playing_a), (b, at_b, playing_b) = h.evaluate(read), g.evaluate(read)
            assert playing_a and playing_b
            b_now = b + (at_a - at_b)
            assert abs(a - b_now) < 0.1, (a, b_now)
            return a

        # Play: the host plays the album's first song; both start at the shared instant.
        h.goto(f"{one}/#/album/{catalog[0].album_id}")
        h.click("[aria-label='Play Porch Light']")
        for p in pages:
            p.wait_for_function("window.musicPlayer.playing && window.musicPlayer.audio.currentTime > 0.5")
        in_step()
        # Seek.
        h.evaluate("window.musicPlayer.seek(15)")
        for p in pages:
            p.wait_for_function("window.musicPlayer.audio.currentTime > 15.2 && window.musicPlayer.playing")
        assert in_step() > 15
        # Next: the queue's song (the guest adds it), on both.
        g.goto(f"{two}/#/album/{catalog[0].album_id}")
        g.click("[aria-label='Queue Moth Waltz']")
        h.wait_for_timeout(300)
        h.evaluate("window.musicPlayer.next()")
        for p in pages:
            p.wait_for_function(
                "window.musicPlayer.song && window.musicPlayer.song.name === 'Moth Waltz' && window.musicPlayer.playing"
                " && window.musicPlayer.audio.currentTime > 0.5"
            )
        in_step()

        # Chat, a reaction, a skip vote, and the end's recap.
        g.goto(f"{two}/#/party/{code}")
        h.goto(f"{one}/#/party/{code}")
        h.wait_for_selector("#people >> text=Gus Guest")
        g.fill("[aria-label='Chat message']", "this one is great")
        g.press("[aria-label='Chat message']", "Enter")
        h.wait_for_selector("#chat >> text=this one is great")
        g.click("[aria-label='React 🎉']")
        h.wait_for_selector(".floating:has-text('🎉')")
        g.click("button:has-text('Vote to skip')")
        h.wait_for_selector("#votes:has-text('1 of 2')")
        h.click("button:has-text('Leave / end')")
        h.wait_for_selector("button:has-text('Save the recap playlist')")
        h.click("button:has-text('Save the recap playlist')")
        h.wait_for_selector("h1:has-text('Party recap'), h1:has-text('Listening party recap')")
        assert "Porch Light" in h.inner_text("#playlist-songs")
        for p in pages:
            p.context.close()
        assert errors == [[], []]


def test_a_playlist_edited_in_one_page_shows_in_the_other(server, browser, catalog):
    owner, friend = UserFactory(name="Olive Owner"), UserFactory(name="Fred Friend")
    from playlists import services as playlists

    playlist = playlists.playlist_create(owner=owner, name="Shared", collaborative=True)
    playlists.collaborator_staff_add(playlist_id=playlist.pk, user_id=friend.pk)
    pages = []
    for user in (owner, friend):
        context = browser.new_context()
        page = context.new_page()
        page.set_default_timeout(20_000)
        sign_in(page, server, user)
        page.goto(f"{server}/#/playlist/{playlist.pk}")
        page.wait_for_selector("h1:has-text('Shared')")
        pages.append(page)
    mine, theirs = pages
    mine.goto(f"{server}/#/album/{catalog[0].album_id}")
    for name in ("Moth Waltz", "Night Bus"):
        mine.select_option(f"[aria-label='Add {name} to a playlist']", label="Shared")
        mine.wait_for_selector(".toast:has-text('Added to Shared')")
        theirs.wait_for_selector(f"#playlist-songs >> text={name}")
    # Reorder by dragging, in the owner's page: the friend's follows.
    mine.goto(f"{server}/#/playlist/{playlist.pk}")
    mine.locator("#playlist-songs li", has_text="Night Bus").drag_to(
        mine.locator("#playlist-songs li", has_text="Moth Waltz")
    )
    theirs.wait_for_function("document.querySelector('#playlist-songs li .title')?.textContent === 'Night Bus'")
    # And from the keyboard: a button moves a song down. An edit from elsewhere (the owner's
    # phone) lands while the keyboard is on the button: the page is drawn again, the focus stays.
    mine.wait_for_selector("[aria-label='Move Night Bus down']")
    mine.focus("[aria-label='Move Night Bus down']")
    with ThreadPoolExecutor(1) as pool:  # off Playwright's thread, which runs an event loop
        pool.submit(playlists.playlist_update, playlist_id=playlist.pk, user=owner, desc="Friday songs").result()
    mine.wait_for_selector("main p:has-text('Friday songs')")
    assert mine.evaluate("document.activeElement.getAttribute('aria-label')") == "Move Night Bus down"
    mine.keyboard.press("Enter")
    theirs.wait_for_function("document.querySelector('#playlist-songs li .title')?.textContent === 'Moth Waltz'")

    # The server closes the sockets for a resync (1012: its Redis connection came back, say) and
    # an edit lands before they are back, unheard: the pages read the playlist again on return.
    def resync_then_edit() -> None:  # off Playwright's thread, which runs an event loop
        realtime.send_now(playlists.group_name(playlist.pk), {"type": "realtime.resync", "code": 1012})
        playlists.playlist_song_add(playlist_id=playlist.pk, user=owner, song_id=catalog[0].pk)

    with ThreadPoolExecutor(1) as pool:
        pool.submit(resync_then_edit).result()
    theirs.wait_for_selector("#playlist-songs >> text=Porch Light")

    for page in pages:
        page.context.close()
