"""The relevance set: queries a listener types, and what must come back, over the demo catalog
(`seed_demo`, library.demo_names: deterministic, so the names below exist). Scored by
search/tests/test_relevance.py (which asserts the floor) and bench/search.py --relevance
(which prints hit@1 and hit@5 per kind and per category for docs/SEARCH.md).

Each case: (category, query, kind, expected name, expected artist or None). A hit is a result of
that kind with that name (and that artist, for songs and albums when given).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

CATEGORIES = ("exact", "lower-case", "prefix", "one typo", "accents dropped", "artist or album name", "word order")


@dataclass(frozen=True)
class Case:
    category: str
    query: str
    kind: str
    name: str
    artist: str | None = None


C = Case
CASES = [
    # --- artists ---------------------------------------------------------------------------
    C("exact", "The Beatles", "artist", "The Beatles"),
    C("exact", "Beyoncé", "artist", "Beyoncé"),
    C("exact", "Motörhead", "artist", "Motörhead"),
    C("exact", "Los Niños del Río", "artist", "Los Niños del Río"),
    C("exact", "The Velvet Lanterns", "artist", "The Velvet Lanterns"),
    C("lower-case", "the beatles", "artist", "The Beatles"),
    C("lower-case", "kaze no uta", "artist", "Kaze no Uta"),
    C("lower-case", "the midnight machines", "artist", "The Midnight Machines"),
    C("prefix", "beatl", "artist", "The Beatles"),
    C("prefix", "beyon", "artist", "Beyoncé"),
    C("prefix", "motör", "artist", "Motörhead"),
    C("prefix", "nachtschw", "artist", "Die Nachtschwärmer"),
    C("prefix", "sigur bj", "artist", "Sigur Bjarnason"),
    C("one typo", "beatels", "artist", "The Beatles"),
    C("one typo", "beyonse", "artist", "Beyoncé"),
    C("one typo", "motorhed", "artist", "Motörhead"),
    C("one typo", "velvet lantrens", "artist", "The Velvet Lanterns"),
    C("one typo", "mariposa asul", "artist", "Mariposa Azul"),
    C("accents dropped", "beyonce", "artist", "Beyoncé"),
    C("accents dropped", "motorhead", "artist", "Motörhead"),
    C("accents dropped", "los ninos del rio", "artist", "Los Niños del Río"),
    C("accents dropped", "sostrene gronn", "artist", "Søstrene Grønn"),
    C("accents dropped", "helene hakansson", "artist", "Hélène Håkansson"),
    C("accents dropped", "uber den wolken", "artist", "Über den Wolken"),
    C("accents dropped", "orquesta lumiere", "artist", "Orquesta Lumière"),
    C("word order", "sparrows midnight", "artist", "The Midnight Sparrows"),
    C("word order", "bjarnason sigur", "artist", "Sigur Bjarnason"),
    C("word order", "wolken den über", "artist", "Über den Wolken"),
    # --- albums ----------------------------------------------------------------------------
    C("exact", "Winter & Wire", "album", "Winter & Wire", "The Beatles"),
    C("exact", "Faded Stones", "album", "Faded Stones", "Sigur Bjarnason"),
    C("exact", "Secret Echoes", "album", "Secret Echoes", "The Burning Mirrors"),
    C("lower-case", "live at the moon", "album", "Live at the Moon", "Los Niños del Río"),
    C("lower-case", "endless cities", "album", "Endless Cities", "Os Mutantes do Sul"),
    C("prefix", "summer oce", "album", "Summer Oceans", "Sigur Bjarnason"),
    C("prefix", "secret ech", "album", "Secret Echoes", "The Burning Mirrors"),
    C("one typo", "fadde stones", "album", "Faded Stones", "Sigur Bjarnason"),
    C("one typo", "endless citeis", "album", "Endless Cities", "Os Mutantes do Sul"),
    C("accents dropped", "letters to lea", "album", "Letters to Léa", "Los Niños del Río"),
    C("accents dropped", "letters to chloe", "album", "Letters to Chloé", "Über den Wolken"),
    C("accents dropped", "letters to olafur", "album", "Letters to Ólafur", "Wild Kings"),
    C("artist or album name", "beatles winter", "album", "Winter & Wire", "The Beatles"),
    C("artist or album name", "bjarnason summer", "album", "Summer Oceans", "Sigur Bjarnason"),
    C("word order", "wire winter", "album", "Winter & Wire", "The Beatles"),
    C("word order", "years burning", "album", "The Burning Years", "Zofia Silveira"),
    # --- songs -----------------------------------------------------------------------------
    C("exact", "Road in the Light", "song", "Road in the Light", "The Beatles"),
    C("exact", "Wire of Night", "song", "Wire of Night", "Beyoncé"),
    C("exact", "Hidden Shadow", "song", "Hidden Shadow", "Los Niños del Río"),
    C("lower-case", "morning in the sky", "song", "Morning in the Sky", "Beyoncé"),
    C("lower-case", "garden of heart", "song", "Garden of Heart", "Motörhead"),
    C("lower-case", "electric dream blues", "song", "Electric Dream Blues", "Les Étoiles Filantes"),
    C("prefix", "bright silver bl", "song", "Bright Silver Blues", "Motörhead"),
    C("prefix", "secret window bl", "song", "Secret Window Blues", "Søstrene Grønn"),
    C("prefix", "quiet city bl", "song", "Quiet City Blues", "Kaze no Uta"),
    C("one typo", "endless rian blues", "song", "Endless Rain Blues", "Motörhead"),
    C("one typo", "city in the rievr", "song", "City in the River", "Søstrene Grønn"),
    C("one typo", "sumer echo", "song", "Summer Echo", "Kaze no Uta"),
    C("accents dropped", "schone grusse", "song", "Schöne Grüße"),
    C("accents dropped", "cancion del mar", "song", "Canción del Mar"),
    C("accents dropped", "deja vu", "song", "Déjà Vu"),
    C("accents dropped", "coracao vagabundo", "song", "Coração Vagabundo"),
    C("accents dropped", "melodie pour elise", "song", "Mélodie pour Élise"),
    C("artist or album name", "beyonce wire", "song", "Wire of Night", "Beyoncé"),
    C("artist or album name", "motorhead stone", "song", "Stone of Echo", "Motörhead"),
    C("artist or album name", "nachtschwarmer ocean", "song", "Ocean in the Sky", "Die Nachtschwärmer"),
    C("artist or album name", "mutantes sweet night", "song", "Sweet Night", "Os Mutantes do Sul"),
    C("artist or album name", "summer oceans quiet moon", "song", "Quiet Moon", "Sigur Bjarnason"),
    C("word order", "echo stone", "song", "Stone of Echo", "Motörhead"),
    C("word order", "sky ocean", "song", "Ocean in the Sky", "Die Nachtschwärmer"),
    # --- public playlists ------------------------------------------------------------------
    C("exact", "Late Night Drive", "playlist", "Late Night Drive"),
    C("exact", "Café Classics", "playlist", "Café Classics"),
    C("exact", "Queen B", "playlist", "Queen B"),
    C("lower-case", "rainy day blues", "playlist", "Rainy Day Blues"),
    C("lower-case", "tokyo nights", "playlist", "Tokyo Nights"),
    C("prefix", "heartbr", "playlist", "Heartbreak Hotel"),
    C("prefix", "saud", "playlist", "Saudade"),
    C("prefix", "lo-fi st", "playlist", "Lo-fi Study Beats"),
    C("one typo", "late nigth drive", "playlist", "Late Night Drive"),
    C("one typo", "sumer hits", "playlist", "Summer Hits 2026"),
    C("accents dropped", "cafe classics", "playlist", "Café Classics"),
    C("accents dropped", "chill electronique", "playlist", "Chill Électronique"),
    C("artist or album name", "fado bossa", "playlist", "Saudade"),  # its description
    C("word order", "drive late night", "playlist", "Late Night Drive"),
    C("word order", "jazz sunday morning", "playlist", "Sunday Morning Jazz"),
]


def is_hit(case: Case, result: dict) -> bool:
    if result["name"] != case.name:
        return False
    if case.artist is None:
        return True
    artist = result.get("artist")
    return (artist.get("name") if isinstance(artist, dict) else artist) == case.artist


@dataclass
class Score:
    cases: int = 0
    hit1: int = 0
    hit5: int = 0

    def add(self, rank: int | None) -> None:
        self.cases += 1
        self.hit1 += rank == 1
        self.hit5 += rank is not None and rank <= 5


def rank_of(case: Case, results: list[dict]) -> int | None:
    """1-based rank of the first hit among a kind's results, or None."""
    for position, result in enumerate(results, start=1):
        if is_hit(case, result):
            return position
    return None


def score(search) -> tuple[dict[str, Score], dict[str, Score], list[tuple[Case, int | None]]]:
    """Run every case through `search(query, kind) -> list of result dicts` (best first, at least
    5): scores per kind, per category, and the cases that missed rank 1."""
    by_kind: dict[str, Score] = defaultdict(Score)
    by_category: dict[str, Score] = defaultdict(Score)
    misses = []
    for case in CASES:
        rank = rank_of(case, search(case.query, case.kind))
        by_kind[case.kind].add(rank)
        by_category[case.category].add(rank)
        if rank != 1:
            misses.append((case, rank))
    return dict(by_kind), dict(by_category), misses
