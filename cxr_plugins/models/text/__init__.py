"""Report tokenizer and text encoder for MRM (mmpretrain registry)."""

from .report_encoder import MRMReportEncoder, masked_lm_loss
from .tokenizer import (
    encode_report,
    load_report_tokenizer,
    train_report_tokenizer,
    whole_word_mask,
)

__all__ = [
    'MRMReportEncoder',
    'encode_report',
    'load_report_tokenizer',
    'masked_lm_loss',
    'train_report_tokenizer',
    'whole_word_mask',
]
