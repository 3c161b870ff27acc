"""Small BERT-style report encoder with a masked-language-model head for MRM.

Zhou et al., MRM (https://arxiv.org/abs/2301.13155): a randomly initialised
BERT (hidden 384, 6 layers, 6 heads, FFN 1536, 100 positions) reconstructs the
masked report words while the mean of the visible image tokens, projected to the
text width, is added to every token embedding (no cross-attention).

Written with ``torch.nn.TransformerEncoder`` (post-LN, GELU, as BERT) because
HF ``transformers`` is not a dependency; parameter names therefore differ from
the released ``BertForMaskedLM`` checkpoints.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS
from torch import nn

from cxr_plugins.datasets.text_tokenizer import IGNORE_INDEX, PAD_ID


def masked_lm_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Cross-entropy over the masked positions only.

    The released MRM code computes the CE over *all* positions (padding
    included) with the unmasked ids as labels; here positions whose label is
    ``IGNORE_INDEX`` do not count, as in BERT's MLM.

    Args:
        logits: ``(..., V)`` token logits.
        labels: ``(...)`` original ids at masked positions, else -100.
    """
    if not (labels != IGNORE_INDEX).any():
        return logits.sum() * 0.0
    return F.cross_entropy(
        logits.reshape(-1, logits.shape[-1]),
        labels.reshape(-1),
        ignore_index=IGNORE_INDEX,
    )


@MODELS.register_module()
class MRMReportEncoder(BaseModule):
    """BERT-style MLM encoder conditioned on a global image feature.

    Args:
        vocab_size: Tokenizer vocabulary size.
        hidden_dims: Token width (MRM: 384).
        num_layers: Transformer layers (MRM: 6).
        num_heads: Attention heads (MRM: 6).
        feedforward_channels: FFN width (MRM: 1536).
        max_positions: Maximum sequence length (MRM: 100).
        dropout: Dropout of embeddings and layers (BERT: 0.1).
        init_cfg: mmengine init config.
    """

    def __init__(
        self,
        vocab_size: int,
        hidden_dims: int = 384,
        num_layers: int = 6,
        num_heads: int = 6,
        feedforward_channels: int = 1536,
        max_positions: int = 100,
        dropout: float = 0.1,
        init_cfg: dict | None = None,
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        self.word_embeddings = nn.Embedding(vocab_size, hidden_dims, padding_idx=PAD_ID)
        self.position_embeddings = nn.Embedding(max_positions, hidden_dims)
        self.embed_norm = nn.LayerNorm(hidden_dims, eps=1e-12)
        self.embed_dropout = nn.Dropout(dropout)
        layer = nn.TransformerEncoderLayer(
            hidden_dims,
            num_heads,
            feedforward_channels,
            dropout=dropout,
            activation='gelu',
            batch_first=True,
            norm_first=False,
            layer_norm_eps=1e-12,
        )
        self.encoder = nn.TransformerEncoder(
            layer, num_layers, enable_nested_tensor=False
        )
        self.mlm_transform = nn.Sequential(
            nn.Linear(hidden_dims, hidden_dims),
            nn.GELU(),
            nn.LayerNorm(hidden_dims, eps=1e-12),
        )
        self.mlm_bias = nn.Parameter(torch.zeros(vocab_size))
        self.max_positions = max_positions

    def init_weights(self) -> None:
        """BERT initialisation of the embeddings: N(0, 0.02), zero padding row."""
        super().init_weights()
        for embedding in (self.word_embeddings, self.position_embeddings):
            nn.init.normal_(embedding.weight, std=0.02)
        with torch.no_grad():
            self.word_embeddings.weight[PAD_ID].zero_()

    def forward(
        self, input_ids: torch.Tensor, image_feature: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Contextual token states.

        Args:
            input_ids: ``(B, L)`` (masked) token ids, ``L <= max_positions``.
            image_feature: ``(B, hidden_dims)`` added to every token embedding.

        Returns:
            ``(B, L, hidden_dims)``; :meth:`mlm_logits` maps them to the vocab.
        """
        length = input_ids.shape[1]
        if length > self.max_positions:
            raise ValueError(
                f'input_ids length {length} > max_positions {self.max_positions}'
            )
        tokens = self.word_embeddings(input_ids)
        if image_feature is not None:
            tokens = tokens + image_feature[:, None, :]
        positions = torch.arange(length, device=input_ids.device)
        tokens = self.embed_dropout(
            self.embed_norm(tokens + self.position_embeddings(positions))
        )
        return self.encoder(tokens, src_key_padding_mask=input_ids == PAD_ID)

    def mlm_logits(self, hidden: torch.Tensor) -> torch.Tensor:
        """Vocabulary logits ``(..., vocab_size)``, decoder tied to the embeddings."""
        return (
            self.mlm_transform(hidden) @ self.word_embeddings.weight.t() + self.mlm_bias
        )
