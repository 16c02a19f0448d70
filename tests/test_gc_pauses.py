"""Garbage-collector pauses (musicapp.platform.metrics.watch_gc_pauses): measured, and what
survives a full collection frozen out of the next ones, with the freeze lifted every GC_THAW_S."""

from __future__ import annotations

import gc
import time

import pytest
from prometheus_client import REGISTRY

from musicapp.platform import metrics


@pytest.fixture
def watched():
    metrics.watch_gc_pauses()
    try:
        yield
    finally:
        gc.callbacks.remove(metrics._gc_pause)
        gc.unfreeze()


def cycles(n: int) -> list:
    """n objects that only the collector can free once dropped."""
    made = []
    for _ in range(n):
        node: dict = {}
        node["self"] = node
        made.append(node)
    return made


def pauses(generation: str) -> float:
    return REGISTRY.get_sample_value("musicapp_gc_pause_seconds_count", {"generation": generation}) or 0.0


def test_a_full_collection_is_measured_and_its_survivors_frozen_out_of_the_next(watched, settings):
    settings.GC_THAW_S = 600
    metrics._gc_thawed_at = time.monotonic()
    before = pauses("2")
    survivors = cycles(10_000)
    gc.collect()
    assert pauses("2") > before
    frozen = gc.get_freeze_count()
    assert frozen >= 10_000
    # The next full collection walks only what came since: the survivors are not in it.
    walked = {id(thing) for thing in gc.get_objects(2)}
    assert not any(id(node) in walked for node in survivors)
    del survivors


def test_after_gc_thaw_s_the_freeze_is_lifted_and_frozen_cycles_are_collected(watched, settings):
    settings.GC_THAW_S = 600
    metrics._gc_thawed_at = time.monotonic()
    survivors = cycles(5_000)
    gc.collect()
    assert gc.get_freeze_count() >= 5_000
    del survivors  # garbage now, but frozen: no collection sees it

    metrics._gc_thawed_at = time.monotonic() - 601
    gc.collect()  # this one ends by lifting the freeze
    assert gc.get_freeze_count() == 0
    assert gc.collect() >= 5_000  # and the next one frees the cycles


def test_with_gc_thaw_s_zero_nothing_is_frozen(watched, settings):
    settings.GC_THAW_S = 0
    gc.unfreeze()
    kept = cycles(1_000)
    gc.collect()
    assert gc.get_freeze_count() == 0
    del kept
