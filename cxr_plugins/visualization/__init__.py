from .gradcam import (  # noqa: F401
    ClassifierLogits,
    cam_target_layer,
    compute_cams,
    overlay_cam,
    vit_tokens_to_map,
)
from .reconstruction import denormalize, save_reconstruction_grid  # noqa: F401
