"""Documents -> token ids with FIM applied and EOS appended, a batch at a time.

Document text is encoded with special-token text treated as plain text, so a document that
happens to contain ``<[fim-prefix]>`` or the EOS string can never forge a control token: the
only special ids in a shard are the ones put there here. That is what makes the FIM inverse
exact on ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from codekiln_curate.tokens.fim import FimConfig, fim_pieces, fim_split
from codekiln_curate.tokens.tokenizer import SpecialIds

if TYPE_CHECKING:
    from tokenizers import Tokenizer

TokenArray = npt.NDArray[np.uint32]


@dataclass
class EncodedBatch:
    """Tokens of consecutive documents, flat, with each document's length (EOS included)."""

    tokens: TokenArray
    lengths: list[int]
    fim_flags: list[bool]


class DocumentEncoder:
    """Tokenize, apply FIM within each document, end each document with EOS."""

    def __init__(self, tokenizer: Tokenizer, specials: SpecialIds, fim: FimConfig) -> None:
        tokenizer.encode_special_tokens = True  # document text never yields control ids
        self.tokenizer = tokenizer
        self.specials = specials
        self.fim = fim
        if fim.mode == "spm":
            self.sentinels = (specials.fim_suffix, specials.fim_prefix, specials.fim_middle)
        else:
            self.sentinels = (specials.fim_prefix, specials.fim_suffix, specials.fim_middle)

    def encode(self, ids: list[str], texts: list[str], copy: int = 0) -> EncodedBatch:
        pieces: list[str] = []
        plans: list[bool] = []  # True: the doc contributes 3 FIM pieces, False: 1 piece
        for doc_id, text in zip(ids, texts, strict=True):
            split = fim_split(text, doc_id, self.fim, copy)
            plans.append(split is not None)
            pieces.extend(fim_pieces(split, self.fim.mode) if split is not None else (text,))
        encoded = self.tokenizer.encode_batch_fast(pieces, add_special_tokens=False)
        flat: list[int] = []
        lengths: list[int] = []
        eos = self.specials.eos
        first, second, middle = self.sentinels
        cursor = 0
        for is_fim in plans:
            start = len(flat)
            if is_fim:
                flat.append(first)
                flat.extend(encoded[cursor].ids)
                flat.append(second)
                flat.extend(encoded[cursor + 1].ids)
                flat.append(middle)
                flat.extend(encoded[cursor + 2].ids)
                cursor += 3
            else:
                flat.extend(encoded[cursor].ids)
                cursor += 1
            flat.append(eos)
            lengths.append(len(flat) - start)
        return EncodedBatch(np.array(flat, dtype=np.uint32), lengths, plans)


def decode_document(tokenizer: Tokenizer, specials: SpecialIds, doc: TokenArray) -> str:
    """The original text of one packed document (trailing EOS dropped, FIM undone on ids)."""
    ids = doc.tolist()
    if ids and ids[-1] == specials.eos:
        ids.pop()
    fim_ids = (specials.fim_prefix, specials.fim_suffix, specials.fim_middle)
    if not ids or ids[0] not in fim_ids[:2] or specials.fim_middle < 0:
        return str(tokenizer.decode(ids, skip_special_tokens=False))
    lead = ids[0]
    other = specials.fim_prefix if lead == specials.fim_suffix else specials.fim_suffix
    cut_a = ids.index(other, 1)
    cut_b = ids.index(specials.fim_middle, cut_a + 1)
    part_one, part_two, middle = (str(tokenizer.decode(piece, skip_special_tokens=False))
                                  for piece in (ids[1:cut_a], ids[cut_a + 1:cut_b],
                                                ids[cut_b + 1:]))
    if lead == specials.fim_suffix:  # SPM: suffix, prefix, middle
        return part_two + middle + part_one
    return part_one + middle + part_two
