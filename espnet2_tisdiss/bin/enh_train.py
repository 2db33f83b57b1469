"""Train an enhancement/separation model with ESPnet's trainer, TISDiSS registered.

Accepts every option of ``python -m espnet2.bin.enh_train``; the config may use
``separator: tisdiss`` and criterions with ``wrapper: early_split_pit``.
"""

import torch.distributed as dist

from espnet2_tisdiss.tasks import TISDiSSEnhancementTask


def main(cmd=None):
    TISDiSSEnhancementTask.main(cmd=cmd)
    # Note: ESPnet leaves the process group to interpreter exit, where a gloo rank that
    # finishes first could abort ("terminate called without an active exception") and
    # exit non-zero after a successful training; a clean teardown avoids that.
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
