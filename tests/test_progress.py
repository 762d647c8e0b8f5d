"""mlprivacy_helpers.progress: the bar, its estimate, and the one line it leaves behind."""

from __future__ import annotations

import re

import numpy as np
import pytest
import tensorflow as tf

from mlprivacy_helpers import progress, training


class FakeHandle:
    def __init__(self, log: list) -> None:
        self.log = log

    def update(self, obj) -> None:
        self.log.append(obj)


@pytest.fixture
def shown(monkeypatch):
    """Pretend to run in a notebook kernel: record what the bar displays."""
    log: list = []

    def display(obj, display_id=False):
        assert display_id is True
        log.append(obj)
        return FakeHandle(log)

    monkeypatch.setattr(progress, "_kernel_display", lambda: display)
    monkeypatch.delenv(progress.MODE_VARIABLE, raising=False)  # make test's plugin sets it
    return log


def test_format_seconds():
    assert progress.format_seconds(7.4) == "7 s"
    assert progress.format_seconds(125) == "2 min 05 s"
    assert progress.format_seconds(3720) == "1 h 02 min"
    with pytest.raises(ValueError):
        progress.format_seconds(-1)
    with pytest.raises(TypeError):
        progress.format_seconds("5")


def test_time_left_is_the_average_pace_so_far():
    assert progress.time_left(0, 10, 5.0) is None
    assert progress.time_left(2, 10, 4.0) == pytest.approx(16.0)
    assert progress.time_left(10, 10, 4.0) == 0.0
    assert progress.time_left(12, 10, 4.0) == 0.0
    with pytest.raises(ValueError):
        progress.time_left(1, 0, 1.0)


def test_in_a_kernel_the_bar_updates_in_place_and_ends_as_its_summary(shown):
    bar = progress.Progress(4, "training cnn", "epochs", min_interval=0.0)
    assert 'class="mlprivacy-progress"' in shown[0]._repr_html_()
    assert "<progress" in shown[0]._repr_html_()
    bar.update(1)
    assert "1/4 epochs" in repr(shown[-1])
    assert re.search(r"\d+ s elapsed · about \d+ s left$", repr(shown[-1]))
    bar.update(3)
    seconds = bar.close()
    assert repr(shown[-1]) == f"training cnn: 4 epochs in {progress.format_seconds(seconds)}"
    assert "<progress" not in shown[-1]._repr_html_()
    assert bar.close() == seconds  # a second close changes nothing
    before = len(shown)
    bar.update(1)
    assert len(shown) == before


def test_summary_mode_draws_the_bar_once_and_its_summary(shown, monkeypatch):
    monkeypatch.setenv(progress.MODE_VARIABLE, "summary")
    bar = progress.Progress(100, "training", min_interval=0)
    for _ in range(100):
        bar.update(1)
    assert len(shown) == 1  # no redraw: nothing for a client that is not reading to drop
    bar.close("trained")
    assert [repr(x) for x in shown[1:]] == ["trained"]
    monkeypatch.setenv(progress.MODE_VARIABLE, "live")
    assert progress.live_redraws()
    monkeypatch.setenv(progress.MODE_VARIABLE, "quiet")
    with pytest.raises(ValueError, match="MLPRIVACY_PROGRESS"):
        progress.Progress(1, "x")


def test_redraws_are_rate_limited(shown):
    bar = progress.Progress(1000, "many small steps", min_interval=3600)
    for _ in range(1000):
        bar.update(1)
    assert len(shown) == 2  # the first drawing and the first update after it
    bar.close("done")
    assert repr(shown[-1]) == "done"


def test_outside_a_kernel_only_the_summary_is_printed(capsys):
    with progress.Progress(3, "work") as bar:
        bar.update(3)
    assert capsys.readouterr().out.startswith("work: 3 steps in ")


def test_track_yields_everything_and_closes(shown):
    assert list(progress.track(range(5), "loop", unit="items")) == list(range(5))
    assert repr(shown[-1]).startswith("loop: 5 items in ")
    with pytest.raises(TypeError, match="total"):
        list(progress.track(iter([1, 2]), "no length"))


def test_bad_arguments():
    with pytest.raises(ValueError):
        progress.Progress(0, "nothing")
    with pytest.raises(TypeError):
        progress.Progress(3, None)  # type: ignore[arg-type]
    bar = progress.Progress(3, "x")
    with pytest.raises(ValueError):
        bar.update(-1)


def tiny_model() -> tf.keras.Model:
    model = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(2)])
    model.compile("sgd", tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def test_train_cached_moves_one_bar_by_its_epochs_trained_or_cached(shown):
    x = np.random.default_rng(0).normal(size=(50, 3)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")[:, None]
    bar = progress.Progress(6, "two models", "epochs", min_interval=0.0)
    training.train_cached("tiny", tiny_model, x, y, epochs=3, batch_size=7, seed=1, progress=bar)
    assert bar.done == pytest.approx(3.0)
    # Midway through an epoch the bar shows a fraction of it (8 batches of 7 examples).
    assert any("/6 epochs" in repr(o) and ".1/6" in repr(o) for o in shown)
    _, history = training.train_cached(
        "tiny", tiny_model, x, y, epochs=3, batch_size=7, seed=1, progress=bar
    )
    assert history["cached"] and bar.done == pytest.approx(6.0)


def test_train_cached_shows_its_own_bar_and_a_line(shown, capsys):
    x = np.zeros((20, 3), "float32")
    y = np.zeros((20, 1), "int64")
    training.train_cached("tiny2", tiny_model, x, y, epochs=2, batch_size=10, seed=1)
    assert repr(shown[-1]).startswith("training tiny2: 2 epochs in ")
    training.train_cached("tiny2", tiny_model, x, y, epochs=2, batch_size=10, seed=1)
    assert capsys.readouterr().out.strip() == "tiny2: loaded from the model cache"
    with pytest.raises(TypeError, match="progress"):
        training.train_cached("t", tiny_model, x, y, epochs=1, batch_size=10, seed=1, progress=1)
