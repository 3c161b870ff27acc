from cxr_plugins.visualization.gradcam import (  # noqa: F401
    ClassifierLogits,
    cam_target_layer,
    compute_cams,
    overlay_cam,
    vit_tokens_to_map,
)
from cxr_plugins.visualization.reconstruction import (  # noqa: F401
    denormalize,
    save_reconstruction_grid,
)
