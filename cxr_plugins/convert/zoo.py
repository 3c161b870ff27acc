"""The model zoo: one row per released seed checkpoint.

Each row says where the file is published, how to convert it (format and
target geometry), where the converted file goes (the path the recipe config's
``CXRPretrained`` init reads, so convert + train needs no ``--cfg-options``)
and what the seed reports. ``tools/convert/convert_checkpoint.py --zoo NAME``
uses a row; ``docs/model_zoo.md`` shows them all (:func:`zoo_markdown`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

MEDMAE_DRIVE = 'https://drive.google.com/file/d/{}/view'
EVAX_HF = 'https://huggingface.co/MapleF/eva_x'


@dataclass(frozen=True)
class ZooEntry:
    """One released seed checkpoint and the recipe that uses it."""

    name: str
    seed: str
    arch: str
    released: str
    where: str
    source_format: str
    output: str
    config: str | None
    seed_metric: str
    convert_args: dict = field(default_factory=dict)


ZOO: dict[str, ZooEntry] = {
    entry.name: entry
    for entry in (
        ZooEntry(
            'medmae-vit-small-0.3m',
            'Medical MAE',
            'ViT-S/16 (MAE, X-rays 0.3M)',
            'Drive id 1Yok1RemqP27iKJ5BUuoHhLRBB1GycITx (Pretrained column)',
            MEDMAE_DRIVE.format('1Yok1RemqP27iKJ5BUuoHhLRBB1GycITx'),
            'medical_mae',
            'checkpoints/medmae_vit-small-p16_cxr-0.3m.pth',
            'configs/classification/medical_mae/'
            'vit-small-p16_medmae-pre_8xb128-75e_nih-cxr14.py',
            'NIH ChestX-ray14 test mAUC 82.3',
            dict(arch='small'),
        ),
        ZooEntry(
            'medmae-vit-base-0.5m',
            'Medical MAE',
            'ViT-B/16 (MAE, X-rays 0.5M)',
            'vit-b_CXR_0.5M_mae.pth (name per medical_mae issue #5)',
            MEDMAE_DRIVE.format('10wqOFCkhyWp6JdSFADrH6Xu9e1am3gXJ'),
            'medical_mae',
            'checkpoints/medmae_vit-base-p16_cxr-0.5m.pth',
            'configs/classification/medical_mae/'
            'vit-base-p16_medmae-pre_8xb128-75e_nih-cxr14.py',
            'NIH ChestX-ray14 test mAUC 83.0',
            dict(arch='base'),
        ),
        ZooEntry(
            'medmae-densenet121-cnn-mae',
            'Medical MAE',
            'DenseNet-121 (CNN-MAE, X-rays 0.3M)',
            'Drive id 1f5KePD48QmHua7C5HBUV3i0PqNPkgmqj (Pretrained column)',
            MEDMAE_DRIVE.format('1f5KePD48QmHua7C5HBUV3i0PqNPkgmqj'),
            'densenet',
            'checkpoints/medmae_densenet121_cnn-mae.pth',
            'configs/classification/medical_mae/'
            'densenet121_cnn-mae-pre_8xb128-75e_nih-cxr14.py',
            'NIH ChestX-ray14 test mAUC 81.2',
        ),
        ZooEntry(
            'medmae-resnet50-mocov2-in1k',
            'Medical MAE (baseline)',
            'ResNet-50 (MoCo v2, ImageNet)',
            'Drive id 1GVSc3TOEhItliMToyY8Z4oHW_Kxf8cRj',
            MEDMAE_DRIVE.format('1GVSc3TOEhItliMToyY8Z4oHW_Kxf8cRj'),
            'moco',
            'checkpoints/resnet50_mocov2-in1k.pth',
            None,
            'NIH ChestX-ray14 test mAUC 80.9',
        ),
        ZooEntry(
            'medmae-resnet50-byol-in1k',
            'Medical MAE (baseline)',
            'ResNet-50 (BYOL, ImageNet)',
            'Drive id 1AIJzhoXmbs5bjAqdmwXoy5R0peiyPU4L',
            MEDMAE_DRIVE.format('1AIJzhoXmbs5bjAqdmwXoy5R0peiyPU4L'),
            'byol',
            'checkpoints/resnet50_byol-in1k.pth',
            None,
            'NIH ChestX-ray14 test mAUC 81.0',
        ),
        ZooEntry(
            'medmae-resnet50-swav-in1k',
            'Medical MAE (baseline)',
            'ResNet-50 (SwAV, ImageNet)',
            'Drive id 1Puz15aWNM0t7B5RRq_ifc1dS4lnyFECG',
            MEDMAE_DRIVE.format('1Puz15aWNM0t7B5RRq_ifc1dS4lnyFECG'),
            'swav',
            'checkpoints/resnet50_swav-in1k.pth',
            None,
            'NIH ChestX-ray14 test mAUC 81.5',
        ),
        ZooEntry(
            'mrm-vit-base',
            'MRM',
            'ViT-B/16 (MAE + report MLM, MIMIC-CXR)',
            'MRM.pth (epoch 200, per MRM issue #4)',
            'https://github.com/RL4M/MRM-pytorch (README download link)',
            'mrm',
            'checkpoints/mrm_vit-base-p16.pth',
            'configs/classification/mrm/vit-base-p16_mrm-pre_1xb96-30k_nih-cxr14-10pct.py',
            'NIH (MRM split) mAUC 79.4 / 84.0 / 85.9 at 1 / 10 / 100 % labels',
            dict(arch='base'),
        ),
        ZooEntry(
            'evax-tiny-mim',
            'EVA-X',
            'EVA-X-Ti/16 (MIM, 520k X-rays)',
            'eva_x_tiny_patch16_merged520k_mim.pt',
            EVAX_HF,
            'evax',
            'checkpoints/eva_x_tiny_patch16_merged520k_mim.pth',
            'configs/classification/evax/evax-tiny-p16_evax-pre_4xb256-45e_nih-cxr14.py',
            'ChestX-ray14 mAUC 82.4; CheXpert 89.6',
            dict(arch='tiny'),
        ),
        ZooEntry(
            'evax-small-mim',
            'EVA-X',
            'EVA-X-S/16 (MIM, 520k X-rays)',
            'eva_x_small_patch16_merged520k_mim.pt',
            EVAX_HF,
            'evax',
            'checkpoints/eva_x_small_patch16_merged520k_mim.pth',
            'configs/classification/evax/evax-small-p16_evax-pre_4xb256-30e_nih-cxr14.py',
            'ChestX-ray14 mAUC 83.3; CheXpert 90.1; COVIDx-3/4 acc 97.5/96.0',
            dict(arch='small'),
        ),
        ZooEntry(
            'evax-base-mim',
            'EVA-X',
            'EVA-X-B/16 (MIM, 520k X-rays)',
            'eva_x_base_patch16_merged520k_mim.pt',
            EVAX_HF,
            'evax',
            'checkpoints/eva_x_base_patch16_merged520k_mim.pth',
            'configs/classification/evax/evax-base-p16_evax-pre_4xb128-10e_nih-cxr14.py',
            'ChestX-ray14 mAUC 83.5',
            dict(arch='base'),
        ),
        ZooEntry(
            'evax-small-mim-siim',
            'EVA-X',
            'EVA-X-S/16 (MIM) for SIIM segmentation, 512 px',
            'eva_x_small_patch16_merged520k_mim.pt',
            EVAX_HF,
            'evax',
            'checkpoints/eva_x_small_patch16_merged520k_mim_512px.pth',
            'configs/segmentation/evax/'
            'upernet_vit-small-p16-simple-pyramid_evax-pre_1xb8-50e_siim-512x512.py',
            'SIIM-ACR Dice 63.2 (figs/performance.png)',
            dict(arch='small', img_size=512),
        ),
    )
}


def convert_command(entry: ZooEntry) -> str:
    """The exact command that converts the released file for this row."""
    first_word = entry.released.split(' ')[0]
    source = first_word if first_word.endswith(('.pt', '.pth')) else 'DOWNLOADED.pth'
    return (
        f'python tools/convert/convert_checkpoint.py {source} --zoo {entry.name} '
        '--unsafe-load'
    )


def zoo_markdown() -> str:
    """The table of ``docs/model_zoo.md``."""
    lines = [
        '| name | seed | architecture | file as released | published at | '
        'convert command | writes | recipe config | seed reports |',
        '|---|---|---|---|---|---|---|---|---|',
    ]
    for entry in ZOO.values():
        config = f'`{entry.config}`' if entry.config else 'none yet'
        lines.append(
            f'| {entry.name} | {entry.seed} | {entry.arch} | {entry.released} | '
            f'{entry.where} | `{convert_command(entry)}` | `{entry.output}` | '
            f'{config} | {entry.seed_metric} |'
        )
    return '\n'.join(lines)
