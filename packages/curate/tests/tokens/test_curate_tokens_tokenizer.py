"""`codekiln curate tokenizer`: Seed-Coder specials at fixed ids, determinism, adopt."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codekiln_core.cli.app import main
from codekiln_core.lineage.run import LineageRun
from codekiln_core.special_tokens import (
    BOS,
    EOS,
    FIM_MIDDLE,
    FIM_PREFIX,
    FIM_SUFFIX,
    PAD,
    SEP,
)
from codekiln_curate.tokens.make_tokenizer import adopt_tokenizer_dir, train_tokenizer_dir
from codekiln_curate.tokens.recipes import TokenizerAdoptRecipe, TokenizerTrainRecipe
from codekiln_curate.tokens.tokenizer import load_tokenizer, missing_fim_tokens, special_ids


@pytest.mark.slow
def test_train_saves_a_hugging_face_tokenizer(tiny_code_corpus: Path, tmp_path: Path) -> None:
    first, again = (train_tokenizer_dir(TokenizerTrainRecipe(
        dataset=tiny_code_corpus, vocab_size=600, output=tmp_path / name), LineageRun(None))
        for name in ("a", "b"))
    assert (tmp_path / "a" / "tokenizer.json").read_bytes() == (
        tmp_path / "b" / "tokenizer.json").read_bytes()  # deterministic training
    assert first.sha256 == again.sha256 and 300 < first.vocab_size <= 600
    from transformers import PreTrainedTokenizerFast  # what AutoTokenizer resolves to

    hf = PreTrainedTokenizerFast.from_pretrained(str(tmp_path / "a"))
    assert (hf.bos_token_id, hf.pad_token_id, hf.eos_token_id) == (0, 1, 2)
    assert (hf.bos_token, hf.pad_token, hf.eos_token) == (BOS, PAD, EOS)
    for token in (FIM_PREFIX, FIM_SUFFIX, FIM_MIDDLE, SEP):
        assert hf.convert_tokens_to_ids(token) not in (None, hf.unk_token_id)
    text = "def greet(name):\n    return f'héllo {name}' 🙂\n"
    assert hf.decode(hf.encode(text, add_special_tokens=False)) == text  # byte-level: lossless
    ids = hf.encode(FIM_SUFFIX + "x" + FIM_PREFIX, add_special_tokens=False)
    assert ids[0] == hf.convert_tokens_to_ids(FIM_SUFFIX) and len(ids) == 3


def adopted_id(directory: Path, token: str) -> int | None:
    return load_tokenizer(directory).token_to_id(token)


def test_adopt_adds_missing_fim_tokens(tmp_path: Path) -> None:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    plain = Tokenizer(models.BPE())
    plain.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    plain.decoder = decoders.ByteLevel()
    plain.train_from_iterator(["print('hi')\n"] * 3, trainers.BpeTrainer(
        vocab_size=280, special_tokens=["</s>"], show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    source = tmp_path / "plain"
    source.mkdir()
    plain.save(str(source / "tokenizer.json"))
    (source / "tokenizer_config.json").write_text(json.dumps({"eos_token": "</s>"}))
    assert missing_fim_tokens(plain) == [FIM_PREFIX, FIM_SUFFIX, FIM_MIDDLE]
    result = adopt_tokenizer_dir(TokenizerAdoptRecipe(source=str(source),
                                                      output=tmp_path / "adopted"),
                                 LineageRun(None))
    assert result.added_tokens == (FIM_PREFIX, FIM_SUFFIX, FIM_MIDDLE)  # appended, in order
    assert [adopted_id(tmp_path / 'adopted', t) for t in result.added_tokens] == \
        [plain.get_vocab_size() + i for i in range(3)]
    adopted = load_tokenizer(tmp_path / "adopted")
    assert missing_fim_tokens(adopted) == []
    ids = special_ids(adopted, tmp_path / "adopted", need_fim=True)
    assert ids.eos == plain.token_to_id("</s>") and ids.pad == ids.eos  # no PAD: pad with EOS
    assert len({ids.fim_prefix, ids.fim_suffix, ids.fim_middle}) == 3


def test_cli_errors_are_one_line(tiny_code_corpus: Path, tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["curate", "tokenizer", "train", str(tiny_code_corpus), "--vocab-size", "100",
            "--output", str(tmp_path / "tok"), "--no-lineage"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: --vocab-size 100 is too small") and "\n" not in err
    assert main(["curate", "shards", str(tiny_code_corpus), "--tokenizer", str(tmp_path),
                 "--output", str(tmp_path / "out"), "--fim-mode", "msp", "--no-lineage"]) == 2
    assert "fim_mode' = 'msp'" in capsys.readouterr().err


def test_adopt_writes_the_chosen_chat_template(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    from tokenizers import Tokenizer, models

    from codekiln_core.chat import SEED_CODER_REASONING_CHAT_TEMPLATE

    source = tmp_path / "plain"
    source.mkdir()
    Tokenizer(models.BPE()).save(str(source / "tokenizer.json"))
    (source / "tokenizer_config.json").write_text(json.dumps({"eos_token": "</s>"}))
    argv = ["curate", "tokenizer", "adopt", str(source), "--output", str(tmp_path / "out"),
            "--chat-template", "reasoning", "--no-lineage"]
    assert main(argv) == 0
    config = json.loads((tmp_path / "out" / "tokenizer_config.json").read_text())
    assert config["chat_template"] == SEED_CODER_REASONING_CHAT_TEMPLATE
    assert config["eos_token"] == "</s>"  # other keys kept
    argv[-2] = "chatml"
    argv[5] = str(tmp_path / "other")
    assert main(argv) == 2
    assert "chat template 'chatml' is unknown" in capsys.readouterr().err
    assert not (tmp_path / "other").exists()
