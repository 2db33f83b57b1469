"""Training-data preprocessors registered into ESPnet's enhancement task."""

from espnet2_tisdiss.preprocessing.dynamic_mixing import PREPROCESSOR_NAME, SpeakerDistinctDynamicMixing

__all__ = ["PREPROCESSOR_NAME", "SpeakerDistinctDynamicMixing"]
