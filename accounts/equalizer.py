"""The equalizer: 10 bands (31 Hz ... 16 kHz), each -12..+12 dB, and named presets that fill them."""

BAND_FREQUENCIES_HZ = (31, 62, 125, 250, 500, 1000, 2000, 4000, 8000, 16000)
BAND_LIMIT_DB = 12.0
CUSTOM = "custom"

PRESETS: dict[str, tuple[float, ...]] = {
    "flat": (0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
    "bass_boost": (6, 5, 4, 2, 0, 0, 0, 0, 0, 0),
    "bass_reducer": (-6, -5, -4, -2, 0, 0, 0, 0, 0, 0),
    "treble_boost": (0, 0, 0, 0, 0, 1, 2, 4, 5, 6),
    "vocal": (-2, -2, -1, 1, 3, 4, 3, 1, 0, -1),
    "rock": (5, 4, 3, 1, -1, -1, 1, 3, 4, 5),
    "pop": (-1, 0, 2, 4, 5, 4, 2, 0, -1, -1),
    "jazz": (4, 3, 1, 2, -2, -2, 0, 2, 3, 4),
    "classical": (5, 4, 3, 2, -1, -1, 0, 2, 3, 4),
    "electronic": (5, 4, 1, 0, -2, 2, 1, 1, 4, 5),
    "hip_hop": (5, 4, 1, 3, -1, -1, 1, -1, 2, 3),
    "acoustic": (4, 4, 3, 1, 2, 2, 3, 3, 3, 2),
}
PRESET_NAMES = (*PRESETS, CUSTOM)


def default_equalizer() -> dict:
    return {"enabled": False, "preset": "flat", "bands": [float(b) for b in PRESETS["flat"]]}
