"""The hack battery through the real sandbox: every hack fails, every correct answer passes.

Each hack is also run the naive way (answer and tests concatenated into one program, as a
reward usually runs them): the ones marked ``naive`` must pass there, so the battery shows
which holes the judge closes rather than hacks that never worked. The same battery goes
through a SandboxFusion server (the judge's portable form: Python harness inlined, the nonce
checked by the client).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from codekiln_core.judge import Judge
from codekiln_core.judge.hacks import CORRECT, HACKS, TESTS, WRONG, naive_program, submission
from codekiln_core.sandbox import LocalSandbox, RunRequest, SandboxFusionSandbox
from codekiln_core.sandbox.fusion_server import make_server

pytestmark = pytest.mark.sandbox
VARIANTS = sorted(TESTS)


def test_every_hack_fails_and_the_naive_run_shows_the_hole(sandbox: LocalSandbox) -> None:
    judged = Judge(sandbox).run([submission(h.language, h.answer, h.tests) for h in HACKS])
    naive = sandbox.run_many([RunRequest(h.language, naive_program(h.language, h.answer,
                                                                    h.tests)) for h in HACKS])
    passed = [f"{h.language}: {h.name} ({j.verdict})" for h, j in zip(HACKS, judged, strict=True)
              if j.passed]
    assert passed == []
    wrong_flag = [f"{h.language}: {h.name} naive={n.verdict}" for h, n in
                  zip(HACKS, naive, strict=True) if n.passed != h.naive]
    assert wrong_flag == []
    assert {h.language for h in HACKS if h.naive} == {"python", "javascript", "bash"}


def test_correct_answers_pass_and_wrong_ones_fail_in_every_style(sandbox: LocalSandbox) -> None:
    judge = Judge(sandbox)
    right = judge.run([submission(lang, CORRECT[lang], style) for lang, style in VARIANTS])
    wrong = judge.run([submission(lang, WRONG[lang], style) for lang, style in VARIANTS])
    assert [v.verdict for v in right] == ["passed"] * len(VARIANTS), [v.reason for v in right]
    assert not any(v.passed for v in wrong)


@pytest.fixture(scope="module")
def fusion(sandbox: LocalSandbox) -> Iterator[SandboxFusionSandbox]:
    server = make_server(sandbox)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    with SandboxFusionSandbox(f"http://127.0.0.1:{server.server_port}", workers=2) as client:
        yield client
    server.shutdown()
    server.server_close()


def test_the_battery_holds_through_a_sandbox_fusion_server(
        fusion: SandboxFusionSandbox) -> None:
    judge = Judge(fusion)
    assert judge.inline_python  # a remote sandbox gets the whole Python harness
    judged = judge.run([submission(h.language, h.answer, h.tests) for h in HACKS])
    assert [h.name for h, j in zip(HACKS, judged, strict=True) if j.passed] == []
    right = judge.run([submission(lang, CORRECT[lang], style) for lang, style in VARIANTS])
    assert all(v.passed for v in right), [v.reason for v in right]
