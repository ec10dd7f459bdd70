"""The scorer's batches: every file once per epoch in a seeded order, full steps across
epochs, fixed width, and a stream that resumes where it stood."""

from __future__ import annotations

from collections import Counter

import pytest

from codekiln_train.scorer.batches import LabelBatches, held_out_batches

IDS = [[10 + i] * (1 + i % 5) for i in range(10)]  # 10 files of 1-5 tokens
TARGETS = [i / 10 for i in range(10)]


def drawn(batches: LabelBatches, steps: int) -> list[int]:
    """The files of ``steps`` batches, by their first token."""
    files = []
    for _ in range(steps):
        batch = batches.next_batch()
        assert batch["input_ids"].shape == (4, 8) and batch["labels"].dtype.is_floating_point
        assert batch["attention_mask"].sum(1).tolist() == [1 + (int(row[0]) - 10) % 5
                                                           for row in batch["input_ids"]]
        files += [int(row[0]) - 10 for row in batch["input_ids"]]
    return files


def test_each_epoch_visits_every_file_once_and_steps_stay_full() -> None:
    batches = LabelBatches(IDS, TARGETS, batch_size=4, max_tokens=8, pad_id=1, seed=3)
    files = drawn(batches, 5)  # 20 files: two epochs of 10
    assert sorted(files[:10]) == list(range(10)) == sorted(files[10:])
    assert files[:10] != files[10:]  # a new order each epoch
    again = drawn(LabelBatches(IDS, TARGETS, batch_size=4, max_tokens=8, pad_id=1, seed=3), 5)
    other = drawn(LabelBatches(IDS, TARGETS, batch_size=4, max_tokens=8, pad_id=1, seed=4), 5)
    assert again == files and other != files
    assert Counter(files) == Counter({i: 2 for i in range(10)})


def test_the_stream_resumes_from_its_state() -> None:
    first = LabelBatches(IDS, TARGETS, batch_size=4, max_tokens=8, pad_id=1, seed=0)
    drawn(first, 2)
    state = first.state_dict()
    rest = drawn(first, 3)
    resumed = LabelBatches(IDS, TARGETS, batch_size=4, max_tokens=8, pad_id=1, seed=0)
    resumed.load_state_dict(state)
    assert drawn(resumed, 3) == rest


def test_held_out_batches_keep_the_file_order() -> None:
    batches = held_out_batches(IDS, TARGETS, batch_size=4, max_tokens=8, pad_id=1)
    assert [b["input_ids"].shape[0] for b in batches] == [4, 4, 2]
    assert [float(x) for b in batches for x in b["labels"]] == pytest.approx(TARGETS)
    assert all(b["input_ids"].shape[1] == 8 for b in batches)
