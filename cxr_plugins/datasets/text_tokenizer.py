"""WordPiece report tokenizer and whole-word masking for MRM.

Zhou et al., "Advancing Radiograph Representation Learning with Masked Record
Modeling" (MRM, ICLR 2023, https://arxiv.org/abs/2301.13155). The tokenizer is
trained offline with HF ``tokenizers`` (no hub download): WordPiece,
``[PAD]=0, [UNK]=1, [CLS]=2, [MASK]=3``, lowercase + NFKD + strip accents;
reports are prefixed with ``[CLS]`` and padded/truncated to 100 tokens.
Masking replaces each whole word (its head piece and ``##`` continuations) by
``[MASK]`` with probability 0.5, with no 80/10/10 split, as in the paper.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import torch
from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers
from tokenizers.models import WordPiece
from tokenizers.trainers import WordPieceTrainer

SPECIAL_TOKENS = ('[PAD]', '[UNK]', '[CLS]', '[MASK]')
PAD_ID, UNK_ID, CLS_ID, MASK_ID = range(4)
IGNORE_INDEX = -100


def build_untrained_tokenizer() -> Tokenizer:
    """WordPiece tokenizer with MRM's normaliser and BERT pre-tokenisation."""
    tokenizer = Tokenizer(WordPiece(unk_token='[UNK]'))
    tokenizer.normalizer = normalizers.Sequence(
        [normalizers.NFKD(), normalizers.Lowercase(), normalizers.StripAccents()]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.decoder = decoders.WordPiece()
    return tokenizer


def train_report_tokenizer(
    texts: Iterable[str], vocab_size: int = 30000, min_frequency: int = 2
) -> Tokenizer:
    """Train a WordPiece vocabulary on report texts.

    Args:
        texts: Report strings.
        vocab_size: Target vocabulary size (MRM: 30,000).
        min_frequency: Minimum pair frequency for a merge.

    Returns:
        The trained tokenizer, special tokens at ids 0-3.
    """
    tokenizer = build_untrained_tokenizer()
    trainer = WordPieceTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=list(SPECIAL_TOKENS),
    )
    tokenizer.train_from_iterator(texts, trainer=trainer)
    for token_id, token in enumerate(SPECIAL_TOKENS):
        if tokenizer.token_to_id(token) != token_id:
            raise RuntimeError(
                f'special token {token} got id '
                f'{tokenizer.token_to_id(token)}, expected {token_id}'
            )
    return tokenizer


def load_report_tokenizer(path: str | Path) -> Tokenizer:
    """Load a tokenizer json written by ``tools/train_tokenizer.py``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f'report tokenizer {path} not found; train it with tools/train_tokenizer.py'
        )
    tokenizer = Tokenizer.from_file(str(path))
    for token_id, token in enumerate(SPECIAL_TOKENS):
        if tokenizer.token_to_id(token) != token_id:
            raise ValueError(f'{path}: special token {token} must have id {token_id}')
    return tokenizer


def encode_report(
    tokenizer: Tokenizer, text: str, max_length: int = 100
) -> tuple[torch.Tensor, torch.Tensor]:
    """Tokenise one report: ``[CLS]`` + pieces, truncated and padded.

    Returns:
        ``(input_ids, word_ids)``, both ``(max_length,)`` long tensors;
        ``word_ids`` is -1 at ``[CLS]`` and padding.
    """
    encoding = tokenizer.encode(text, add_special_tokens=False)
    ids = [CLS_ID] + encoding.ids[: max_length - 1]
    words = [-1] + [-1 if w is None else w for w in encoding.word_ids[: max_length - 1]]
    pad = max_length - len(ids)
    return (
        torch.tensor(ids + [PAD_ID] * pad, dtype=torch.long),
        torch.tensor(words + [-1] * pad, dtype=torch.long),
    )


def whole_word_mask(
    input_ids: torch.Tensor,
    word_ids: torch.Tensor,
    mask_prob: float = 0.5,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Replace whole words by ``[MASK]`` with probability ``mask_prob``.

    Args:
        input_ids: ``(L,)`` token ids.
        word_ids: ``(L,)`` word index of each token, -1 for special/padding.
        mask_prob: Per-word masking probability (MRM: 0.5).
        generator: Optional RNG.

    Returns:
        ``(masked_ids, labels)``: labels hold the original id at masked
        positions and ``IGNORE_INDEX`` elsewhere.
    """
    num_words = int(word_ids.max().item()) + 1 if (word_ids >= 0).any() else 0
    word_is_masked = torch.rand(num_words, generator=generator) < mask_prob
    token_is_masked = torch.zeros_like(input_ids, dtype=torch.bool)
    is_word = word_ids >= 0
    token_is_masked[is_word] = word_is_masked[word_ids[is_word]]
    masked_ids = input_ids.masked_fill(token_is_masked, MASK_ID)
    labels = input_ids.masked_fill(~token_is_masked, IGNORE_INDEX)
    return masked_ids, labels
