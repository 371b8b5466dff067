"""Plain names and the ripening sentence (training.model.reasons); reason sentences are tested with
their generator in tests/serving/test_sentences.py."""

from __future__ import annotations

from training.model.reasons import humanize, ripening_sentence


def test_names_read_as_words() -> None:
    assert humanize("pricing_page_view") == "pricing page view"
    assert humanize("  demo__request ") == "demo request"


def test_ripening_sentence_counts_and_pluralises() -> None:
    one = ripening_sentence("demo_request", 1, 2, 30, 38.6, 71.4)
    assert one == (
        "1 more 'demo request' event (ripe leads typically show 2 in 30 days) would raise the chance if "
        "handed over now from 39 to 71"
    )
    assert "3 more 'webinar attended' events" in ripening_sentence("webinar_attended", 3, 3, 14, 20.0, 40.0)
