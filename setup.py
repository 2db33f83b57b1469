"""espnet2-tisdiss: the TISDiSS separator as a plugin to ESPnet's speech enhancement task."""

from setuptools import find_packages, setup

setup(
    name="espnet2-tisdiss",
    version="0.1.0",
    description=(
        "TISDiSS (training-time and inference-time scalable discriminative source "
        "separation) for ESPnet-Enh"
    ),
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.10",
    packages=find_packages(include=["espnet2_tisdiss", "espnet2_tisdiss.*"]),
    # the shipped model, its card and example mixtures (espnet2_tisdiss.pretrained)
    package_data={"espnet2_tisdiss.pretrained": ["*.tar.gz", "*.md", "*.log", "examples/*.wav"]},
    install_requires=[
        "espnet==202611",
        # torchaudio 2.11 is the newest release; torch must match it exactly.
        "torch==2.11.0",
        "torchaudio==2.11.0",
        "fast-bss-eval>=0.1.4",
        "tensorboard",
        "matplotlib",
        "soundfile",
        "kaldiio",
        "pyyaml",
        "numpy",
        "pystoi",
        "soxr",
        "tqdm",
        "huggingface_hub",  # Hub tags in tisdiss-separate / Separator.from_pretrained
        "espeakng-loader>=0.2.4",  # the mini corpus's eSpeak NG voices
    ],
    extras_require={"test": ["pytest>=8", "hypothesis>=6", "onnx>=1.17", "onnxscript>=0.3", "onnxruntime>=1.20"],
                    "onnx": ["onnx>=1.17", "onnxscript>=0.3", "onnxruntime>=1.20"]},
    entry_points={
        "console_scripts": [
            "tisdiss-train=espnet2_tisdiss.bin.enh_train:main",
            "tisdiss-infer=espnet2_tisdiss.bin.enh_inference:main",
            "tisdiss-convert-authors=espnet2_tisdiss.bin.convert_authors_model:main",
            "tisdiss-separate=espnet2_tisdiss.bin.separate:main",
            "tisdiss-export=espnet2_tisdiss.bin.export_onnx:main",
        ]
    },
)
