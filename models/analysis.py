"""Everything derived from a spec without building it: shapes, params, FLOPs, receptive field.

Shapes follow O = floor((W - K + 2P) / S) + 1 for convolutions and pooling alike. A spec whose
sizes do not work is rejected here, before any module exists, with the layer index and sizes.
"""

from __future__ import annotations

from dataclasses import dataclass

from .spec import ArchSpec, Conv, Dropout, Flatten, Linear, Pool

BYTES_PER_FP32 = 4


@dataclass(frozen=True)
class LayerInfo:
    index: int  # 1-based position in the spec, as error messages and `show` print it
    kind: str  # "conv", "maxpool", "avgpool", "dropout", "flatten", "linear"
    desc: str
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    params: int
    flops: int  # forward FLOPs per image, 2 per multiply-accumulate, bias excluded
    rf: int  # receptive field (pixels of the input) of one output unit
    jump: int  # input pixels between neighbouring output units

    def as_dict(self) -> dict:
        return {
            "index": self.index,
            "kind": self.kind,
            "desc": self.desc,
            "in_shape": list(self.in_shape),
            "out_shape": list(self.out_shape),
            "params": self.params,
            "flops": self.flops,
            "rf": self.rf,
            "jump": self.jump,
        }


def conv_out(size: int, kernel: int, stride: int, pad: int) -> int:
    """O = floor((W - K + 2P) / S) + 1."""
    return (size - kernel + 2 * pad) // stride + 1


def _shape_str(shape: tuple[int, ...]) -> str:
    return "×".join(str(s) for s in shape)


def _check_positive(spec: ArchSpec) -> None:
    c, h, w = spec.input_shape
    if min(c, h, w) < 1:
        shape = _shape_str(spec.input_shape)
        raise ValueError(f"{spec.name}: input shape {shape} must be positive")
    if spec.num_classes < 1:
        raise ValueError(f"{spec.name}: num_classes {spec.num_classes} must be >= 1")


def analyze(spec: ArchSpec) -> list[LayerInfo]:
    """Walk the spec, check every layer against its input, and return one LayerInfo per layer.

    Raises ValueError naming the layer (1-based) and the sizes when the spec cannot work.
    """
    _check_positive(spec)
    shape: tuple[int, ...] = spec.input_shape
    rf, jump = 1, 1
    infos: list[LayerInfo] = []
    for i, layer in enumerate(spec.layers, start=1):

        def bad(msg: str, layer=layer, i=i) -> ValueError:
            return ValueError(f"{spec.name}: layer {i} ({type(layer).__name__}): {msg}")

        if isinstance(layer, Conv):
            if len(shape) != 3:
                raise bad(f"convolution needs a C×H×W input, got {_shape_str(shape)}")
            c, h, w = shape
            if layer.out_channels < 1:
                raise bad(f"out_channels {layer.out_channels} must be >= 1")
            if layer.kernel < 1:
                raise bad(f"kernel {layer.kernel} must be >= 1")
            if layer.stride < 1:
                raise bad(f"stride {layer.stride} must be >= 1")
            if layer.padding != "same" and (
                not isinstance(layer.padding, int) or layer.padding < 0
            ):
                raise bad(f"padding {layer.padding!r} must be 'same' or an integer >= 0")
            if layer.act not in ("relu", None):
                raise bad(f"unknown activation {layer.act!r} (use 'relu' or None)")
            p = layer.pad()
            if layer.kernel > min(h, w) + 2 * p:
                raise bad(
                    f"kernel {layer.kernel}×{layer.kernel} is larger than its input "
                    f"{h}×{w} with padding {p}"
                )
            ho = conv_out(h, layer.kernel, layer.stride, p)
            wo = conv_out(w, layer.kernel, layer.stride, p)
            out = (layer.out_channels, ho, wo)
            params = c * layer.out_channels * layer.kernel**2 + layer.out_channels
            flops = 2 * c * layer.out_channels * layer.kernel**2 * ho * wo
            rf, jump = rf + (layer.kernel - 1) * jump, jump * layer.stride
            desc = f"conv {c}→{layer.out_channels} k{layer.kernel} s{layer.stride} p{p}"
            desc += f" {layer.act}" if layer.act else ""
            infos.append(LayerInfo(i, "conv", desc, shape, out, params, flops, rf, jump))
        elif isinstance(layer, Pool):
            if len(shape) != 3:
                raise bad(f"pooling needs a C×H×W input, got {_shape_str(shape)}")
            if layer.kind not in ("max", "avg"):
                raise bad(f"unknown pooling {layer.kind!r} (use 'max' or 'avg')")
            stride = layer.kernel if layer.stride is None else layer.stride
            if layer.kernel < 1 or stride < 1:
                raise bad(f"pool kernel {layer.kernel} and stride {stride} must be >= 1")
            c, h, w = shape
            if layer.kernel > min(h, w):
                raise bad(f"pool kernel {layer.kernel}×{layer.kernel} is larger than its "
                          f"input {h}×{w}")
            out = (c, conv_out(h, layer.kernel, stride, 0), conv_out(w, layer.kernel, stride, 0))
            rf, jump = rf + (layer.kernel - 1) * jump, jump * stride
            desc = f"{layer.kind}pool k{layer.kernel} s{stride}"
            infos.append(LayerInfo(i, f"{layer.kind}pool", desc, shape, out, 0, 0, rf, jump))
        elif isinstance(layer, Dropout):
            if not 0.0 <= layer.p < 1.0:
                raise bad(f"dropout probability {layer.p} must be in [0, 1)")
            desc = f"dropout p={layer.p}"
            infos.append(LayerInfo(i, "dropout", desc, shape, shape, 0, 0, rf, jump))
        elif isinstance(layer, Flatten):
            n = 1
            for s in shape:
                n *= s
            infos.append(LayerInfo(i, "flatten", "flatten", shape, (n,), 0, 0, rf, jump))
            shape = (n,)
            continue
        elif isinstance(layer, Linear):
            if len(shape) != 1:
                raise bad(f"linear needs a flat input, got {_shape_str(shape)}: add Flatten()")
            if layer.out_features < 1:
                raise bad(f"out_features {layer.out_features} must be >= 1")
            if layer.act not in ("relu", None):
                raise bad(f"unknown activation {layer.act!r} (use 'relu' or None)")
            (n,) = shape
            out = (layer.out_features,)
            params = n * layer.out_features + layer.out_features
            flops = 2 * n * layer.out_features
            desc = f"linear {n}→{layer.out_features}" + (f" {layer.act}" if layer.act else "")
            # A fully connected unit sees the whole input: rf stops being meaningful; keep the
            # last convolutional value so "receptive field" means the conv stack's.
            infos.append(LayerInfo(i, "linear", desc, shape, out, params, flops, rf, jump))
        else:
            raise bad(f"unknown layer type {layer!r}")
        shape = infos[-1].out_shape
    if shape != (spec.num_classes,):
        raise ValueError(
            f"{spec.name}: layer {len(spec.layers)} ({type(spec.layers[-1]).__name__}) outputs "
            f"{_shape_str(shape)}, expected {spec.num_classes} class scores"
        )
    return infos


def summarize(spec: ArchSpec, infos: list[LayerInfo]) -> dict:
    """The per-architecture numbers the suite records, all from the spec."""
    convs = [lay for lay in spec.layers if isinstance(lay, Conv)]
    pools = [lay for lay in spec.layers if isinstance(lay, Pool)]
    pads = {"same" if c.padding == "same" or (c.pad() > 0 and c.pad() == c.kernel // 2) else "valid"
            for c in convs}
    kinds = {p.kind for p in pools}
    elements = sum(_numel(i.out_shape) for i in infos)
    return {
        "depth": len(convs),
        "kernel_sizes": [c.kernel for c in convs],
        "strides": [c.stride for c in convs],
        "paddings": [c.pad() for c in convs],
        "padding": pads.pop() if len(pads) == 1 else ("mixed" if pads else "none"),
        "pooling": kinds.pop() if len(kinds) == 1 else ("mixed" if kinds else "none"),
        "width": convs[0].out_channels if convs else None,
        # The formulas' totals; describe() adds the measured "params" and "flops_per_image".
        "formula_params": sum(i.params for i in infos),
        "formula_flops_per_image": sum(i.flops for i in infos),
        # The conv stack's receptive field: the last conv/pool layer's, in input pixels.
        "receptive_field": infos[-1].rf if infos else 1,
        # fp32 bytes of every layer output for one image: what backward keeps alive, roughly.
        "activation_bytes_per_image": elements * BYTES_PER_FP32,
    }


def _numel(shape: tuple[int, ...]) -> int:
    n = 1
    for s in shape:
        n *= s
    return n
