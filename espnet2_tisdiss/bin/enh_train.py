"""Train an enhancement/separation model with ESPnet's trainer, TISDiSS registered.

Accepts every option of ``python -m espnet2.bin.enh_train``; the config may use
``separator: tisdiss`` and criterions with ``wrapper: early_split_pit``.
"""

from espnet2_tisdiss.tasks import TISDiSSEnhancementTask


def main(cmd=None):
    TISDiSSEnhancementTask.main(cmd=cmd)


if __name__ == "__main__":
    main()
