"""The starting genre vocabulary (staff extend it in the admin)."""

GENRES = [
    ("pop", "Pop"),
    ("rock", "Rock"),
    ("hip-hop", "Hip-Hop"),
    ("electronic", "Electronic"),
    ("jazz", "Jazz"),
    ("classical", "Classical"),
    ("r-and-b", "R&B"),
    ("country", "Country"),
    ("folk", "Folk"),
    ("metal", "Metal"),
    ("indie", "Indie"),
    ("ambient", "Ambient"),
    ("blues", "Blues"),
    ("reggae", "Reggae"),
    ("latin", "Latin"),
    ("soundtrack", "Soundtrack"),
    ("soul", "Soul"),
    ("punk", "Punk"),
]


def ensure_genres(genre_model) -> None:
    """Add whichever of the starting genres are missing (the model is passed in, so that the
    data migration can use its historical model)."""
    from musicapp.platform.ids import new_object_id

    for slug, name in GENRES:
        genre_model.objects.get_or_create(slug=slug, defaults={"name": name, "id": new_object_id()})
