"""Two processes over gloo with ZeRO-2 train exactly what one process trains.

The test starts both workers itself (RANK/WORLD_SIZE/MASTER_* set as a launcher would) and
compares with a one-process run in this process at the same global batch: 2 sequences x 2
micro-steps of accumulation against 2 sequences x 2 ranks. The gradients are the same
numbers summed in a different order, so the losses agree to float32 rounding; the stated
tolerance is 1e-5 absolute (observed differences are ~1e-7).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from codekiln_core.net import free_port

pytestmark = pytest.mark.slow

STEPS = 4
TOLERANCE = 1e-5


def test_two_process_zero2_matches_one_process(standins: ModuleType, tmp_path: Path) -> None:
    out = tmp_path / "losses.json"
    port = str(free_port())
    workers = []
    for rank in range(2):
        env = {**os.environ, "RANK": str(rank), "LOCAL_RANK": str(rank), "WORLD_SIZE": "2",
               "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": port, "OMP_NUM_THREADS": "1"}
        workers.append(subprocess.Popen(
            [sys.executable, str(Path(standins.__file__)), str(out), "2", str(STEPS)],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    # The one-process reference runs meanwhile: same global batch by accumulation.
    single = standins.run_steps(standins.EngineStandin(zero_stage=0,
                                                       gradient_accumulation_steps=2), STEPS)
    for worker in workers:
        output, _ = worker.communicate(timeout=600)
        assert worker.returncode == 0, output[-3000:]
    multi = json.loads(out.read_text())
    assert len(multi) == STEPS
    assert multi == pytest.approx(single, abs=TOLERANCE), (multi, single)
    assert multi[-1] < multi[0]
