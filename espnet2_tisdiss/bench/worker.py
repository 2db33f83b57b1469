"""One benchmark measurement in a fresh process: ``python worker.py '<json job>'``.

Run by :mod:`espnet2_tisdiss.bench.inference` and
:mod:`espnet2_tisdiss.bench.train_memory`, one subprocess per measured path,
so that every path has its own peak resident memory (VmHWM). This file imports
only torch at the top: with ``impl: authors`` it runs under the interpreter and
``PYTHONPATH`` of a checkout of the authors' code (WingSingFung/TISDiSS,
``espnet2.enh.separator.tisdiss_separator.TISDiSS_Separator``) and never
imports this package.

Job keys: impl ("ours" | "authors" | "onnx"), task ("infer" | "train"), conf
(constructor options of that impl), input_dim, threads, device, state_dict
(path: loaded if it exists, else the seeded weights are written there),
input (path of a saved complex [B, T, F] spectrogram), and per task:
infer: depths, dtype ("float32" | "int8" | "bfloat16"), compile, output
(path to save the max-depth output), profile (bool), onnx_dir (impl "onnx": the three
graphs of ``espnet2_tisdiss.deploy.export_onnx.export_graphs``, run with onnxruntime on
the CPU); train: steps, warmup,
dtype ("float32" | "bfloat16"), profile (bool: seconds and GFLOP per op kind
of one more step).

Prints one line ``RESULT <json>``.
"""

import json
import os
import sys
import time

import torch


def memory_kib(field: str) -> int:
    """VmRSS / VmHWM of this process in KiB (Linux), 0 elsewhere."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def build(job):
    """The separator of ``job['impl']`` with the job's weights, and the name of its depth attribute."""
    torch.manual_seed(0)
    if job["impl"] == "authors":
        from espnet2.enh.separator.tisdiss_separator import TISDiSS_Separator

        model, depth_attr = TISDiSS_Separator(input_dim=job["input_dim"], **job["conf"]), "reconstructor_repeat_times"
    else:
        from espnet2_tisdiss.separator import TISDiSSSeparator

        model, depth_attr = TISDiSSSeparator(job["input_dim"], **job["conf"]), "inference_reps"
    if os.path.exists(job["state_dict"]):
        model.load_state_dict(torch.load(job["state_dict"], weights_only=True))
    else:
        torch.save(model.state_dict(), job["state_dict"])
    return model.to(job["device"]), depth_attr


class RepetitionClock:
    """Timestamps of every reconstruction repetition, from forward hooks on its last layer."""

    def __init__(self, last_layer: torch.nn.Module, device: torch.device):
        self.stamps, self.device = [], device
        last_layer.register_forward_hook(lambda *_: self.stamps.append(self.now()))

    def now(self) -> float:
        return now(self.device)


def now(device: torch.device) -> float:
    """``time.perf_counter()`` once the work queued on ``device`` has finished."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter()


def last_reconstruction_layer(model, impl: str) -> torch.nn.Module:
    return (model.reconstructor_blocks if impl == "authors" else model.reconstruction_block)[-1]


def infer_onnx(job) -> dict:
    """``infer`` for the exported graphs: encode-and-split, the repetitions, one decode."""
    import numpy as np
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = job["threads"]
    sessions = {name: onnxruntime.InferenceSession(os.path.join(job["onnx_dir"], f"{name}.onnx"), options,
                                                   providers=["CPUExecutionProvider"])
                for name in ("encode_split", "reconstruct", "decode")}

    def run(name, value):
        return sessions[name].run(None, {sessions[name].get_inputs()[0].name: value})[0]

    spec = torch.load(job["input"])  # complex [B, T, F]
    real_imag = torch.view_as_real(spec).numpy().astype(np.float32)
    rss_model = memory_kib("VmRSS")

    def forward(depth: int):
        stamps = [time.perf_counter()]
        streams = run("encode_split", real_imag)
        for _ in range(depth):
            streams = run("reconstruct", streams)
            stamps.append(time.perf_counter())
        decoded = run("decode", streams)
        stamps.append(time.perf_counter())
        return decoded, stamps

    start = time.perf_counter()
    forward(1)
    warmup_s = time.perf_counter() - start
    decoded, stamps = forward(max(job["depths"]))
    decode_s = stamps[-1] - stamps[-2]
    if job.get("output"):
        out = torch.complex(torch.from_numpy(decoded[..., 0]), torch.from_numpy(decoded[..., 1]))
        torch.save(out.to(torch.complex64), job["output"])  # [B, J, T, F]
    return {"seconds": {str(d): stamps[d] - stamps[0] + decode_s for d in job["depths"]},
            "warmup_s": warmup_s, "rss_model_mib": rss_model / 1024,
            "peak_rss_mib": memory_kib("VmHWM") / 1024}


def infer(job) -> dict:
    """Seconds to the output at each depth, from one forward at the largest depth."""
    if job["impl"] == "onnx":
        return infer_onnx(job)
    device = torch.device(job["device"])
    model, depth_attr = build(job)
    model.eval()
    if job["impl"] == "ours":
        from espnet2_tisdiss.separator import optimize_for_inference

        optimize_for_inference(model, "int8" if job["dtype"] == "int8" else "float32", job["compile"])
    spec = torch.load(job["input"]).to(device)  # complex [B, T, F]
    ilens = torch.full((spec.shape[0],), spec.shape[1])
    autocast = torch.autocast(device.type, torch.bfloat16, enabled=job["dtype"] == "bfloat16")
    clock = RepetitionClock(last_reconstruction_layer(model, job["impl"]), device)
    rss_model = memory_kib("VmRSS")

    def forward(depth: int):
        setattr(model, depth_attr, depth)
        with torch.inference_mode(), autocast:
            return model(spec, ilens)[0]

    start = clock.now()
    forward(1)  # warm-up (oneDNN primitives, compilation)
    warmup_s = clock.now() - start
    max_depth = max(job["depths"])
    clock.stamps.clear()
    start = clock.now()
    out = forward(max_depth)
    end = clock.now()
    decode_s = end - clock.stamps[-1]
    reps = clock.stamps[len(clock.stamps) - max_depth:]
    result = {
        "seconds": {str(d): reps[d - 1] - start + decode_s for d in job["depths"]},
        "warmup_s": warmup_s,
        "rss_model_mib": rss_model / 1024,
        "peak_rss_mib": memory_kib("VmHWM") / 1024,
    }
    if device.type == "cuda":
        result["peak_gpu_mib"] = torch.cuda.max_memory_allocated() / 2**20
    if job.get("output"):
        torch.save(torch.stack([o.to(torch.complex64).cpu() for o in out], 1), job["output"])
    if job.get("profile"):
        result["components"], result["op_fractions"] = profile(model, forward)
    return result


# names of our separator's children -> reported component
COMPONENTS = {"encoder": "encoder", "separation_block": "separation", "mixture_residual": "separation",
              "splitter": "splitter", "reconstruction_block": "reconstruction", "decoder": "decoder"}
MATMUL_OPS = ("mm", "addmm", "bmm", "convolution", "linear_dynamic", "linear")
ATTENTION_OPS = ("scaled_dot_product", "softmax")


def profile(model, forward):
    """Seconds per component and self-time fractions per op kind, for one depth-1 forward."""
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    seconds, handles = dict.fromkeys(COMPONENTS.values(), 0.0), []
    for name, component in COMPONENTS.items():
        module = getattr(model, name)
        for layer in module if isinstance(module, torch.nn.ModuleList) else [module]:
            opened = []
            handles.append(layer.register_forward_pre_hook(
                lambda *_, o=opened: o.append(time.perf_counter())))
            handles.append(layer.register_forward_hook(
                lambda *_, o=opened, c=component: seconds.__setitem__(
                    c, seconds[c] + time.perf_counter() - o.pop())))
    forward(1)
    for handle in handles:
        handle.remove()
    with torch_profile(activities=[ProfilerActivity.CPU]) as prof:
        forward(1)
    kinds = op_kind_seconds(prof)
    total = sum(kinds.values())
    return seconds, {k: v / total for k, v in kinds.items()}


def op_kind(op: str) -> str:
    """The kind of an ATen op name (``mm``, ``aten::mm``): matmul/conv, attention or elementwise/other."""
    op = op.removeprefix("aten::").removeprefix("aten.").split(".")[0]
    if any(op.startswith(m) or op.endswith(m) for m in MATMUL_OPS) or "convolution" in op:
        return "matmul/conv"
    if any(a in op for a in ATTENTION_OPS):
        return "attention"
    return "elementwise/other"


def op_kind_seconds(prof) -> dict:
    """Self CPU seconds per op kind of a torch.profiler run (ATen ops only)."""
    kinds = {"matmul/conv": 0.0, "attention": 0.0, "elementwise/other": 0.0}
    for event in prof.key_averages():
        if event.key.startswith("aten::"):
            kinds[op_kind(event.key)] += event.self_cpu_time_total / 1e6
    return kinds


def cpu_attention_flop_formulas() -> dict:
    """FLOP formulas for SDPA's CPU flash kernels, which ``torch.utils.flop_counter`` lacks.

    The same counts as its formulas for the CUDA kernels: two [L, D] x [D, L]-sized
    matmuls per head forward, four backward.
    """
    from torch.utils import flop_counter

    aten = torch.ops.aten
    formulas = {
        "_scaled_dot_product_flash_attention_for_cpu":
            lambda q, k, v, *_, out_shape=None, **__: flop_counter.sdpa_flop_count(q, k, v),
        "_scaled_dot_product_flash_attention_for_cpu_backward":
            lambda g, q, k, v, *_, out_shape=None, **__: flop_counter.sdpa_backward_flop_count(g, q, k, v),
    }
    return {getattr(aten, name): f for name, f in formulas.items() if hasattr(aten, name)}


def op_kind_breakdown(step) -> dict:
    """One call of ``step`` profiled, one counted: {kind: {"seconds", "gflop"}}.

    Seconds are ATen self CPU times (torch.profiler), plus "python/autograd":
    the rest of the profiled step's wall time; GFLOP are counted by
    ``torch.utils.flop_counter`` (matmuls, convolutions and attention, forward
    and backward; elementwise work counts none).
    """
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile
    from torch.utils.flop_counter import FlopCounterMode

    with torch_profile(activities=[ProfilerActivity.CPU]) as prof:
        start = time.perf_counter()
        step()
        wall = time.perf_counter() - start
    seconds = op_kind_seconds(prof)
    # Python, autograd bookkeeping, the allocator: the profiled step's time outside ATen ops
    seconds["python/autograd"] = max(0.0, wall - sum(seconds.values()))
    counter = FlopCounterMode(display=False, custom_mapping=cpu_attention_flop_formulas())
    with counter:
        step()
    gflop = dict.fromkeys(seconds, 0.0)
    for op, flops in counter.get_flop_counts()["Global"].items():
        gflop[op_kind(str(op))] += flops / 1e9
    return {k: {"seconds": seconds[k], "gflop": gflop[k]} for k in seconds}


def main() -> None:
    job = json.loads(sys.argv[1])
    torch.set_num_threads(job["threads"])
    run = train if job["task"] == "train" else infer
    print("RESULT " + json.dumps(run(job)), flush=True)


def train(job) -> dict:
    """Seconds per training step (forward in training mode, loss, backward, AdamW) and peak memory.

    Optional job keys: device ("cpu" | "cuda"), dtype ("float32" | "bfloat16":
    the forward under bfloat16 autocast, as ESPnet's --use_amp).
    """
    device = torch.device(job.get("device", "cpu"))
    model, _ = build(job)
    model.train()
    spec = torch.load(job["input"]).to(device)
    ilens = torch.full((spec.shape[0],), spec.shape[1], device=device)
    optim = torch.optim.AdamW(model.parameters(), lr=1e-4)
    autocast = torch.autocast(device.type, torch.bfloat16, enabled=job.get("dtype") == "bfloat16")
    rss_model = memory_kib("VmRSS")
    gpu_model = torch.cuda.memory_allocated(device) if device.type == "cuda" else 0

    def step():
        optim.zero_grad(set_to_none=True)
        with autocast:
            out, _, others = model(spec, ilens)
        # ours: the N_re + 1 stages; theirs: the final stage, the others in "aux_speech_pre"
        stages = out if job["impl"] == "ours" else [out] + list(others["aux_speech_pre"])
        loss = sum(s.abs().mean() for stage in stages for s in stage) / len(stages)
        loss.backward()
        optim.step()

    for _ in range(job["warmup"]):
        step()
    seconds = []
    for _ in range(job["steps"]):
        start = now(device)
        step()
        seconds.append(now(device) - start)
    result = {"step_s": min(seconds), "step_mean_s": sum(seconds) / len(seconds),
              "rss_model_mib": rss_model / 1024, "peak_rss_mib": memory_kib("VmHWM") / 1024}
    if device.type == "cuda":
        result["gpu_model_mib"] = gpu_model / 2**20
        result["peak_gpu_mib"] = torch.cuda.max_memory_allocated(device) / 2**20
    if job.get("profile"):
        result["op_kinds"] = op_kind_breakdown(step)
    return result


if __name__ == "__main__":
    main()
