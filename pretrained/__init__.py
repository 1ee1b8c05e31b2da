"""The shipped checkpoints, reference classifiers and sample grids, installed as package data.

Find this folder with :func:`trainers.paths.pretrained_dir` (``$GAN_EXPLORER_PRETRAINED``
overrides it); there is no code here.
"""
