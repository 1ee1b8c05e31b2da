"""``python -m trainers.cli``: the ``gan-train`` command, for launchers that start modules:

accelerate launch --multi_gpu --num_processes 2 -m trainers.cli dcgan --dataset mnist
torchrun --standalone --nproc_per_node 2 -m trainers.cli dcgan --dataset mnist
"""

import sys

from trainers.cli import main

if __name__ == "__main__":
    sys.exit(main())
