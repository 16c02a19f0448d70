"""The demo catalog's names: artists, albums and songs in several languages, with accents,
"The ..." bands, featuring credits, and words shared between names, so that search, the player
and recommendations have something real to chew on. Deterministic: the same seed, the same
catalog (and ids), every time.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

# A few real names, as the search examples name them ("beatl", "beyonce", "motorhead").
FAMOUS = ["The Beatles", "Beyoncé", "Motörhead"]

FIRST = [
    "Ana",
    "Zoë",
    "Chloé",
    "Noémie",
    "Björn",
    "Søren",
    "Åsa",
    "Jürgen",
    "Lúcia",
    "João",
    "Inês",
    "María",
    "José",
    "Élodie",
    "Hélène",
    "Ólafur",
    "Dagný",
    "Mikael",
    "Niamh",
    "Siobhán",
    "Kenji",
    "Yuki",
    "Hana",
    "Amara",
    "Kofi",
    "Tomás",
    "Renée",
    "Léa",
    "Matteo",
    "Giulia",
    "Paweł",
    "Zofia",
    "Dvořák",
    "Ilse",
    "Nuno",
]
LAST = [
    "Marchetti",
    "Okafor",
    "Lindqvist",
    "Håkansson",
    "Moreau",
    "Kowalski",
    "Ferreira",
    "Nakamura",
    "Sandoval",
    "O'Connell",
    "Beaumont",
    "Novák",
    "Brennan",
    "Castillo",
    "Delacroix",
    "Ishikawa",
    "Mendes",
    "Vasquez",
    "Aaltonen",
    "Grünewald",
    "Rousseau",
    "Silveira",
    "Tanaka",
    "Ó Briain",
    "Żelazny",
    "Fontaine",
]
BAND_ADJECTIVE = [
    "Velvet",
    "Electric",
    "Paper",
    "Midnight",
    "Golden",
    "Silent",
    "Neon",
    "Crimson",
    "Hollow",
    "Wandering",
    "Broken",
    "Northern",
    "Copper",
    "Glass",
    "Quiet",
    "Wild",
    "Lunar",
    "Static",
    "Burning",
    "Distant",
]
BAND_NOUN = [
    "Foxes",
    "Satellites",
    "Lanterns",
    "Harbours",
    "Pilots",
    "Orchards",
    "Tides",
    "Machines",
    "Sparrows",
    "Mirrors",
    "Wolves",
    "Rivers",
    "Cathedrals",
    "Owls",
    "Engines",
    "Ghosts",
    "Gardens",
    "Comets",
    "Kings",
]
FOREIGN_BANDS = [
    "Los Niños del Río",
    "Les Étoiles Filantes",
    "Die Nachtschwärmer",
    "Os Mutantes do Sul",
    "La Rêverie",
    "Café Tacuba Nocturno",
    "Søstrene Grønn",
    "Kaze no Uta",
    "Sigur Bjarnason",
    "Orquesta Lumière",
    "Bãi Biển",
    "Mariposa Azul",
    "L'Écho des Collines",
    "Zwölf Uhr",
    "Fado da Ribeira",
    "Cuarteto Alegría",
    "Łąka",
    "Niebla y Sal",
    "Über den Wolken",
    "A Noite Mais Longa",
]
WORDS_EN = [
    "Night",
    "Light",
    "River",
    "Summer",
    "Heart",
    "Fire",
    "Rain",
    "Moon",
    "Ocean",
    "Shadow",
    "Morning",
    "Dream",
    "City",
    "Road",
    "Star",
    "Echo",
    "Window",
    "Garden",
    "Winter",
    "Sky",
    "Gold",
    "Silver",
    "Wire",
    "Stone",
]
ADJ_EN = [
    "Blue",
    "Lonely",
    "Endless",
    "Golden",
    "Broken",
    "Quiet",
    "Burning",
    "Secret",
    "Wild",
    "Little",
    "Last",
    "Electric",
    "Faded",
    "Hidden",
    "Summer",
    "Sweet",
    "Cold",
    "Bright",
]
PATTERNS_EN = [
    "{adj} {noun}",
    "The {noun}",
    "{noun} of {noun2}",
    "{adj} {noun} Blues",
    "Under the {noun}",
    "{noun} in the {noun2}",
    "Call Me {adj}",
    "Another {noun}",
    "{noun} Song",
    "Where the {noun2} Ends",
]
TITLES_ES = [
    "La Noche Eterna",
    "Corazón de Fuego",
    "Mañana Será Otro Día",
    "Bajo la Lluvia",
    "El Último Tren",
    "Canción del Mar",
    "Sueño de Verano",
    "Luna Llena",
    "Camino a Casa",
    "Niña de los Ojos Tristes",
]
TITLES_FR = [
    "Café de Minuit",
    "L'Été Indien",
    "Les Feuilles d'Automne",
    "Rêve Éveillé",
    "Sous le Ciel de Paris",
    "À Demain",
    "Mélodie pour Élise",
    "La Vie en Bleu",
    "Château de Sable",
    "Déjà Vu",
]
TITLES_DE = [
    "Nachtlicht",
    "Über die Brücke",
    "Sommerregen",
    "Schöne Grüße",
    "Fünf Minuten",
    "Morgenrot",
]
TITLES_PT = [
    "Saudade do Mar",
    "Coração Vagabundo",
    "Noite de São João",
    "Águas de Março Azuis",
    "Canção da Ilha",
]
TITLES_JA = ["Yoru no Umi", "Sakura Fubuki", "Tokyo Neon", "Hoshi no Michi", "Natsu Matsuri"]
FOREIGN_TITLES = TITLES_ES + TITLES_FR + TITLES_DE + TITLES_PT + TITLES_JA
ALBUM_PATTERNS = [
    "{adj} {nouns}",
    "Songs from the {noun}",
    "{noun} Sessions",
    "Live at the {noun}",
    "{adj}",
    "{noun} & {noun2}",
    "The {adj} Years",
    "Letters to {first}",
    "{noun} (Deluxe Edition)",
    "Before the {noun}",
]
GENRES = [
    "pop",
    "rock",
    "hip-hop",
    "electronic",
    "jazz",
    "classical",
    "r-and-b",
    "country",
    "folk",
    "metal",
    "indie",
    "ambient",
    "blues",
    "reggae",
    "latin",
    "soundtrack",
    "soul",
    "punk",
]


@dataclass
class DemoSong:
    title: str
    track: int
    featuring: str | None = None


@dataclass
class DemoAlbum:
    name: str
    year_back: int
    songs: list[DemoSong] = field(default_factory=list)


@dataclass
class DemoArtist:
    name: str
    bio: str
    genre: str
    albums: list[DemoAlbum] = field(default_factory=list)


def artist_name(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.4:
        return f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    if kind < 0.75:
        return f"The {rng.choice(BAND_ADJECTIVE)} {rng.choice(BAND_NOUN)}"
    return f"{rng.choice(BAND_ADJECTIVE)} {rng.choice(BAND_NOUN)}"


def album_name(rng: random.Random) -> str:
    return _english(rng, ALBUM_PATTERNS)


def song_title(rng: random.Random) -> str:
    return rng.choice(FOREIGN_TITLES) if rng.random() < 0.25 else _english(rng, PATTERNS_EN)


def _artist_names(rng: random.Random, count: int) -> list[str]:
    names: list[str] = [*FAMOUS, *FOREIGN_BANDS]
    while len(names) < count:
        name = artist_name(rng)
        if name not in names:
            names.append(name)
    return names[:count]


PLURAL = {"Echo": "Echoes", "Sky": "Skies", "City": "Cities"}


def _english(rng: random.Random, patterns: list[str]) -> str:
    noun, noun2 = rng.sample(WORDS_EN, 2)
    adj = rng.choice([a for a in ADJ_EN if a not in (noun, noun2)])
    nouns = PLURAL.get(noun, f"{noun}s")
    return rng.choice(patterns).format(adj=adj, noun=noun, nouns=nouns, noun2=noun2, first=rng.choice(FIRST))


def catalog(seed: int = 2026, artists: int = 150, albums: int = 300, songs: int = 2000) -> list[DemoArtist]:
    """artists x albums x songs, with every album's titles distinct, and about one song in
    twelve credited "feat." another artist of the catalog."""
    rng = random.Random(seed)
    names = _artist_names(rng, artists)
    result = [
        DemoArtist(
            name=name,
            bio=f"{name}: {rng.choice(['a band', 'a singer', 'a duo', 'an ensemble'])} from the demo catalog.",
            genre=rng.choice(GENRES),
        )
        for name in names
    ]
    for index in range(albums):
        artist = result[index % artists]
        used = {album.name for album in artist.albums}
        name = album_name(rng)
        while name in used:
            name = album_name(rng)
        artist.albums.append(DemoAlbum(name=name, year_back=len(artist.albums)))
    all_albums = [album for artist in result for album in artist.albums]
    for index in range(songs):
        album = all_albums[index % len(all_albums)]
        used = {song.title for song in album.songs}
        title = song_title(rng)
        while title in used:
            title = _english(rng, PATTERNS_EN)
        featuring = rng.choice(names) if rng.random() < 1 / 12 else None
        album.songs.append(DemoSong(title=title, track=len(album.songs) + 1, featuring=featuring))
    return result


# Public playlists of the demo's curator: (name, description, words a song's title, artist or
# album must hold to be picked; empty: any).
PLAYLISTS = [
    ("Late Night Drive", "Headlights, empty roads and the radio low.", ["Night", "Road", "Midnight"]),
    ("Rainy Day Blues", "For windows streaked with rain.", ["Rain", "Blues", "Lluvia", "Sommerregen"]),
    ("Café Classics", "Chansons for a small table on the terrace.", ["Café", "Paris", "Été", "Rêve", "Bleu"]),
    ("Summer Hits 2026", "The songs of the summer.", ["Summer", "Verano", "Sun", "Natsu"]),
    ("Morning Coffee", "Start the day slowly.", ["Morning", "Mañana", "Morgenrot", "Dawn"]),
    ("Focus Flow", "Steady, wordless, long.", []),
    ("Heartbreak Hotel", "Every song someone cried to.", ["Heart", "Lonely", "Corazón", "Coração", "Broken"]),
    ("Saudade", "Fado, bossa and longing, in Portuguese.", ["Saudade", "Coração", "Noite", "Canção", "Fado"]),
    ("Noches Latinas", "Canciones para la noche.", ["Noche", "Luna", "Corazón", "Sueño", "Niña"]),
    ("Deutsche Welle", "Lieder aus dem Norden.", ["Über", "Nacht", "Sommer", "Grüße", "Fünf", "Morgenrot"]),
    ("Tokyo Nights", "Neon, trains and the last izakaya.", ["Tokyo", "Yoru", "Hoshi", "Sakura", "Kaze"]),
    ("Starlight Sessions", "Songs about stars, sung under them.", ["Star", "Moon", "Hoshi", "Étoiles"]),
    ("Electric Dreams", "Synths, wires and neon.", ["Electric", "Neon", "Wire", "Dream", "Machines"]),
    ("Ocean Waves", "Salt water and long horizons.", ["Ocean", "Mar", "Sea", "Umi", "Harbours", "Tides"]),
    ("Golden Hour", "The light just before the evening.", ["Gold", "Golden", "Light", "Silver"]),
    ("Winter Warmers", "Cold outside, a fire inside.", ["Winter", "Cold", "Fire", "Stone"]),
    ("Garden Party", "Sunday afternoon on the lawn.", ["Garden", "Orchards", "Sky"]),
    ("Rock Anthems", "Loud, proud, and live.", ["Motörhead", "Fire", "Burning", "Wolves", "Engines"]),
    ("Beatles & Friends", "The Fab Four and the bands that followed them.", ["The Beatles", "Pilots", "Foxes"]),
    ("Queen B", "Beyoncé, and the songs she features on.", ["Beyoncé"]),
    ("Road Trip Singalong", "Windows down, everyone sings.", ["Road", "City", "Another", "Call Me"]),
    ("Lo-fi Study Beats", "Quiet, looping, patient.", ["Quiet", "Little", "Secret", "Hidden"]),
    ("Chill Électronique", "Downtempo for the evening.", ["Lunar", "Static", "Echo", "Shadow"]),
    ("Sunday Morning Jazz", "Slow coffee, slow records.", ["Sunday", "Blue", "Sweet", "Morning"]),
]
