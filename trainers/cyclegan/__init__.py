"""CycleGAN training, translation and evaluation (Zhu et al. 2017, "Unpaired Image-to-Image
Translation using Cycle-Consistent Adversarial Networks").

Two domains A and B (horses and zebras) and no pairs. Two generators G_AB: A -> B and
G_BA: B -> A, and two PatchGAN discriminators D_A, D_B. One training step, with real a ~ A,
b ~ B (batch size 1 in the paper):

    fake_b = G_AB(a),  rec_a = G_BA(fake_b)          # A -> B -> A
    fake_a = G_BA(b),  rec_b = G_AB(fake_a)          # B -> A -> B

    G step (D frozen), LSGAN adversarial + cycle + identity:
        L_gan      = ½E[(D_B(fake_b) - 1)²] + ½E[(D_A(fake_a) - 1)²]      (LSGAN, Mao et al. 2017)
        L_cycle    = λ (|rec_a - a|₁ + |rec_b - b|₁)                       λ = 10
        L_identity = 0.5 λ (|G_BA(a) - a|₁ + |G_AB(b) - b|₁)              keeps colours when no change is needed
        L_G = L_gan + L_cycle + L_identity

    D step, on a fake drawn from a pool of 50 past fakes (Shrivastava et al. 2017):
        L_D_A = ½E[(D_A(a) - 1)²] + ½E[D_A(pool_a(fake_a))²]
        L_D_B = ½E[(D_B(b) - 1)²] + ½E[D_B(pool_b(fake_b))²]

Learning rate: Adam(2e-4, betas 0.5/0.999), constant for the first ``decay_start`` steps, then
linearly down to 0 at ``steps`` (the paper: 100 epochs constant + 100 epochs decay).

Everything random (data order, crops, flips, the pools' coin flips) comes from seeded generators
whose state is saved in the checkpoint, so ``--resume`` continues the exact same run.

The package, one module per job: ``data`` (folders -> uint8 tensors, augmentation), ``pool``
(past fakes), ``trainer`` (config, schedule, ``CycleGANTrainer``), ``translate`` (inference),
``evaluate`` (cycle L1, the A-vs-B classifier), ``export`` (generators only, for shipping).
The command lines live in trainers/cli/cyclegan.py:

    gan-train cyclegan --data-a ../shared/data/horse2zebra/trainA --data-b ../shared/data/horse2zebra/trainB \\
        --out runs/cyclegan-horse2zebra --image-size 64 --ngf 32 --n-blocks 6 --steps 6000
    gan-train cyclegan --out runs/cyclegan-horse2zebra --resume
    gan-train translate pretrained/cyclegan-horse2zebra --direction a2b --input horse.jpg --out zebra.png
    gan-train evaluate-cyclegan pretrained/cyclegan-horse2zebra --data ../shared/data/horse2zebra --out runs/eval
    gan-train export-cyclegan runs/cyclegan-horse2zebra pretrained/cyclegan-horse2zebra --half
"""

from trainers.cyclegan.data import (
    MODEL_NAME,
    CycleGANUserError,
    default_sample_folder,
    list_images,
    load_domain,
    random_crop_flip,
    to_model_range,
)
from trainers.cyclegan.evaluate import (
    DOMAIN_CLASSIFIER_KIND,
    DomainClassifier,
    default_classifier_dir,
    evaluate_cyclegan,
    load_domain_classifier,
    save_domain_classifier,
    share_classified_b,
    train_domain_classifier,
)
from trainers.cyclegan.export import export_generators
from trainers.cyclegan.pool import ImagePool
from trainers.cyclegan.trainer import (
    CycleGANTrainConfig,
    CycleGANTrainer,
    cycle_l1,
    cycle_loss,
    load_training_images,
    lr_at,
    resume_trainer,
    steps_for_epochs,
)
from trainers.cyclegan.translate import (
    before_after_grid,
    default_translate_size,
    load_cyclegan,
    pil_to_tensor,
    prepare_image,
    translate_all,
    translate_file,
    translate_tensor,
)

__all__ = [
    "DOMAIN_CLASSIFIER_KIND",
    "MODEL_NAME",
    "CycleGANTrainConfig",
    "CycleGANTrainer",
    "CycleGANUserError",
    "DomainClassifier",
    "ImagePool",
    "before_after_grid",
    "cycle_l1",
    "cycle_loss",
    "default_classifier_dir",
    "default_sample_folder",
    "default_translate_size",
    "evaluate_cyclegan",
    "export_generators",
    "list_images",
    "load_cyclegan",
    "load_domain",
    "load_domain_classifier",
    "load_training_images",
    "lr_at",
    "pil_to_tensor",
    "prepare_image",
    "random_crop_flip",
    "resume_trainer",
    "save_domain_classifier",
    "share_classified_b",
    "steps_for_epochs",
    "to_model_range",
    "train_domain_classifier",
    "translate_all",
    "translate_file",
    "translate_tensor",
]
