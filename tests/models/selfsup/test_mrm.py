"""MRM: tokenizer on real IU-Xray reports, whole-word masking, datasets, model."""

import numpy as np
import pandas as pd
import pytest
import torch
from cxr_test_utils import TINY_VIT_ARCH
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from PIL import Image

from cxr_plugins.datasets.image_report import (
    CXRImageReportDataset,
    MRMTokenizeReport,
    load_iu_xray_reports,
)
from cxr_plugins.datasets.text_tokenizer import (
    CLS_ID,
    IGNORE_INDEX,
    MASK_ID,
    PAD_ID,
    encode_report,
    load_report_tokenizer,
    train_report_tokenizer,
    whole_word_mask,
)
from cxr_plugins.models.selfsup.report_encoder import masked_lm_loss


@pytest.fixture(scope='module')
def iu_reports(shared_data):
    return load_iu_xray_reports(
        shared_data / 'labels' / 'iu_xray_openi' / 'NLMCXR_reports.tgz'
    )


@pytest.fixture(scope='module')
def tokenizer_file(iu_reports, tmp_path_factory):
    path = tmp_path_factory.mktemp('tok') / 'wordpiece.json'
    train_report_tokenizer(iu_reports[:1500], vocab_size=2000).save(str(path))
    return path


def test_iu_xray_reports_are_read(iu_reports):
    # 3,955 XMLs; 3,927 have FINDINGS or IMPRESSION text.
    assert len(iu_reports) == 3927
    assert any('pneumothorax' in r.lower() for r in iu_reports)


def test_tokenizer_special_ids_and_normalisation(tokenizer_file):
    tokenizer = load_report_tokenizer(tokenizer_file)
    assert [
        tokenizer.token_to_id(t) for t in ('[PAD]', '[UNK]', '[CLS]', '[MASK]')
    ] == [0, 1, 2, 3]
    assert 500 < tokenizer.get_vocab_size() <= 2000
    plain = tokenizer.encode('no pleural effusion', add_special_tokens=False).ids
    assert (
        tokenizer.encode('No PLEURAL Éffusion', add_special_tokens=False).ids == plain
    )
    ids, word_ids = encode_report(tokenizer, 'No pleural effusion.', max_length=100)
    assert ids.shape == word_ids.shape == (100,)
    assert ids[0] == CLS_ID and word_ids[0] == -1
    assert (ids[1:5] != PAD_ID).all() and (ids[10:] == PAD_ID).all()
    long_ids, _ = encode_report(tokenizer, 'effusion ' * 300, max_length=100)
    assert long_ids.shape == (100,) and (long_ids != PAD_ID).all()


def test_whole_word_masking(tokenizer_file, iu_reports):
    tokenizer = load_report_tokenizer(tokenizer_file)
    masked_words, total_words = 0, 0
    generator = torch.Generator().manual_seed(0)
    for report in iu_reports[:200]:
        ids, word_ids = encode_report(tokenizer, report)
        masked, labels = whole_word_mask(ids, word_ids, 0.5, generator)
        is_masked = masked == MASK_ID
        assert torch.equal(labels[is_masked], ids[is_masked])
        assert (labels[~is_masked] == IGNORE_INDEX).all()
        assert torch.equal(masked[~is_masked], ids[~is_masked])
        assert not is_masked[word_ids < 0].any()  # [CLS] and padding stay
        for word in word_ids[word_ids >= 0].unique():
            pieces = is_masked[word_ids == word]
            assert pieces.all() or not pieces.any()  # whole words only
            masked_words += int(pieces.all())
            total_words += 1
    assert 0.45 < masked_words / total_words < 0.55
    ids, word_ids = encode_report(tokenizer, iu_reports[0])
    first = whole_word_mask(ids, word_ids, 0.5, torch.Generator().manual_seed(3))
    again = whole_word_mask(ids, word_ids, 0.5, torch.Generator().manual_seed(3))
    assert torch.equal(first[0], again[0])


def test_masked_lm_loss_ignores_unmasked_positions():
    logits = torch.randn(2, 5, 7)
    labels = torch.full((2, 5), IGNORE_INDEX)
    labels[0, 2], labels[1, 4] = 3, 6
    changed = logits.clone()
    changed[0, 0] += 100.0
    assert torch.equal(masked_lm_loss(logits, labels), masked_lm_loss(changed, labels))
    expected = torch.nn.functional.cross_entropy(
        torch.stack([logits[0, 2], logits[1, 4]]), torch.tensor([3, 6])
    )
    torch.testing.assert_close(masked_lm_loss(logits, labels), expected)


def _tiny_mrm(vocab_size: int):
    model = MODELS.build(
        dict(
            type='MRM',
            encoder_size=32,
            backbone=dict(
                type='MRMViT',
                arch=dict(
                    TINY_VIT_ARCH, embed_dims=64, num_heads=4, feedforward_channels=128
                ),
                img_size=32,
                patch_size=8,
                mask_ratio=0.75,
            ),
            neck=dict(
                type='MAEPretrainDecoder',
                num_patches=16,
                patch_size=16,
                embed_dim=64,
                decoder_embed_dim=32,
                decoder_depth=1,
                decoder_num_heads=4,
            ),
            head=dict(
                type='MAEPretrainHead',
                norm_pix=True,
                patch_size=16,
                loss=dict(type='PixelReconstructionLoss', criterion='L2'),
            ),
            text_encoder=dict(
                type='MRMReportEncoder',
                vocab_size=vocab_size,
                hidden_dims=32,
                num_layers=2,
                num_heads=4,
                feedforward_channels=64,
                max_positions=100,
            ),
        )
    )
    model.init_weights()
    return model


def test_mrm_forward_backward_high_res_target(tokenizer_file, iu_reports):
    tokenize = MRMTokenizeReport(str(tokenizer_file))
    model = _tiny_mrm(2000)
    samples = []
    for report in iu_reports[:3]:
        result = tokenize(dict(report=report))
        sample = DataSample()
        sample.set_field(result['masked_input_ids'], 'masked_input_ids')
        sample.set_field(result['mlm_labels'], 'mlm_labels')
        samples.append(sample)
    inputs = torch.randn(3, 3, 64, 64)  # 64 px target, encoder sees 32 px
    losses = model.loss(inputs, samples)
    assert set(losses) == {'loss_image', 'loss_report'}
    assert all(torch.isfinite(v) for v in losses.values())
    sum(losses.values()).backward()
    assert model.backbone.patch_embed.projection.weight.grad.abs().sum() > 0
    assert model.image_to_text.weight.grad.abs().sum() > 0
    assert model.text_encoder.word_embeddings.weight.grad.abs().sum() > 0
    # The decoder predicts 16x16x3 patches of the 64 px image.
    assert model.neck.decoder_pred.out_features == 16 * 16 * 3


def _write_png(path, size=40):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.random.randint(0, 255, (size, size), np.uint8)).save(path)


def test_dataset_csv_and_mimic_layout(tmp_path):
    _write_png(tmp_path / 'img' / 'a.png')
    pd.DataFrame(
        {
            'image_path': ['a.png', 'a.png'],
            'report_content': ['FINDINGS: normal.', None],
        }
    ).to_csv(tmp_path / 'training.csv', index=False)
    csv_set = CXRImageReportDataset(
        ann_file=str(tmp_path / 'training.csv'), data_prefix=str(tmp_path / 'img')
    )
    assert len(csv_set) == 1
    assert csv_set.get_data_info(0)['report'] == 'FINDINGS: normal.'

    root = tmp_path / 'mimic'
    rows = [
        ('d1', 10000032, 50414267, 'PA'),
        ('d2', 10000032, 50414267, 'LATERAL'),
        ('d3', 11000011, 53000000, 'AP'),
    ]
    for dicom, subject, study, _ in rows:
        sub = f'p{subject}'
        _write_png(root / 'files' / sub[:3] / sub / f's{study}' / f'{dicom}.jpg')
        (root / 'files' / sub[:3] / sub / f's{study}.txt').write_text(
            f'FINAL REPORT study {study}'
        )
    pd.DataFrame(
        rows, columns=['dicom_id', 'subject_id', 'study_id', 'ViewPosition']
    ).to_csv(root / 'meta.csv', index=False)
    mimic = CXRImageReportDataset(
        ann_file='meta.csv',
        source='mimic',
        data_root=str(root),
        data_prefix=str(root),
        views=('PA', 'AP'),
    )
    assert len(mimic) == 2
    info = mimic.get_data_info(1)
    assert info['img_path'].endswith('files/p11/p11000011/s53000000/d3.jpg')
    assert info['report'] == 'FINAL REPORT study 53000000'
    (root / 'files' / 'p11' / 'p11000011' / 's53000000.txt').unlink()
    with pytest.raises(FileNotFoundError, match='d3'):
        CXRImageReportDataset(
            ann_file='meta.csv',
            source='mimic',
            data_root=str(root),
            data_prefix=str(root),
        )


def test_dataset_covid_notes_in_place(shared_data, tokenizer_file):
    root = shared_data / 'covid_cxr'
    dataset = CXRImageReportDataset(
        ann_file=str(root / 'metadata.csv'),
        source='covid_ieee8023',
        data_prefix=str(root / 'images'),
        pipeline=[
            dict(type='LoadXRayImage'),
            dict(type='MRMTokenizeReport', tokenizer_file=str(tokenizer_file)),
            dict(type='PackInputs', algorithm_keys=['masked_input_ids', 'mlm_labels']),
        ],
    )
    assert len(dataset) == 464  # rows with clinical notes
    sample = dataset[0]
    assert sample['inputs'].shape[0] == 3
    assert sample['data_samples'].masked_input_ids.shape == (100,)
    with pytest.raises(KeyError, match='missing column.*image_path'):
        CXRImageReportDataset(ann_file=str(root / 'metadata.csv'), source='csv')


def test_mrm_reconstruct_masks_the_high_res_target():
    model = _tiny_mrm(100).eval()
    inputs = torch.randn(2, 3, 64, 64)
    torch.manual_seed(0)
    outputs = model.reconstruct(inputs)
    mask = outputs['mask']
    assert mask.shape == (2, 1, 64, 64)
    # 75 % of the 4x4 grid of 16 px high-res patches is masked, per image.
    assert torch.all(mask.mean(dim=(1, 2, 3)) == 0.75)
    visible = mask.expand_as(inputs) == 0
    torch.testing.assert_close(outputs['reconstruction'][visible], inputs[visible])
    assert torch.all(outputs['masked'][~visible] == 0)
    assert not torch.allclose(outputs['reconstruction'][~visible], inputs[~visible])
