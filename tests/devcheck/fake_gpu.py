"""A GPU (CUDA or Apple MPS) simulated on the CPU, to find code that assumes the CPU.

On a real GPU, a tensor that was never moved meets one that was and PyTorch stops
with "Expected all tensors to be on the same device"; ``.numpy()`` on a GPU tensor
stops too. On a CPU-only machine every tensor is on the CPU, so those bugs hide.
``simulated_gpu("cuda")`` makes ``torch.device("cuda")`` usable on a CPU build of
PyTorch (``"mps"`` does the same for Apple's GPU): the data stays in host memory,
but every tensor created on or moved to the GPU becomes a ``FakeGpuTensor`` that
reports ``device='cuda:0'`` (``'mps:0'``), and a torch-function mode enforces the
rules a real GPU enforces:

- an operation mixing GPU tensors with CPU tensors raises, except where the GPU
  accepts CPU tensors too: 0-dim tensors, index tensors, ``copy_`` sources, the
  lengths of packed sequences;
- ``.numpy()`` / ``np.asarray`` on a GPU tensor raises;
- a CPU ``torch.Generator`` used to draw numbers on the GPU raises;
- on MPS, a float64 tensor on the GPU raises (Apple's GPU has no float64);
- ``.cpu()`` and ``.to("cpu")`` copy back to an ordinary tensor.

It is a test tool (``make devcheck``), not a GPU: numbers are computed on the CPU,
so they equal a CPU run's; speed, kernels, memory and ops that one backend lacks are
not simulated. Errors start with "[fake cuda]" / "[fake mps]" so that a failure is
never mistaken for a real GPU's.
"""

from __future__ import annotations

import contextlib
import functools
from unittest import mock

import torch
from torch.overrides import TorchFunctionMode

__all__ = ["KINDS", "FakeGpuMode", "FakeGpuTensor", "enable", "simulated_gpu"]

KINDS = ("cuda", "mps")
CPU = torch.device("cpu")


class FakeGpuTensor(torch.Tensor):
    """A CPU tensor marked as living on the simulated GPU."""

    # Every operation goes through FakeGpuMode; the subclass itself adds nothing.
    __torch_function__ = torch._C._disabled_torch_function_impl


def _on_gpu(t) -> bool:
    return isinstance(t, FakeGpuTensor)


def _tensors(value):
    """The tensors in an argument: itself, or inside lists, tuples and dicts."""
    if isinstance(value, torch.Tensor):
        yield value
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _tensors(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _tensors(item)


def _plain(t):
    """An ordinary tensor on the same storage (an alias kept in autograd)."""
    return t.as_subclass(torch.Tensor) if _on_gpu(t) else t


def _as_device(value) -> torch.device | None:
    if isinstance(value, torch.device):
        return value
    if isinstance(value, str):
        try:
            return torch.device(value)
        except RuntimeError:  # some other string argument
            return None
    return None


def _name(func) -> str:
    return getattr(func, "__name__", repr(func))


# Calls that accept CPU tensors beside GPU ones, as the GPU does.
_MIXING_ALLOWED = {
    torch.Tensor.copy_,
    torch.Tensor.set_,
    torch.Tensor.to,
    torch.Tensor.new_tensor,
    torch.Tensor.__getitem__,
    torch.Tensor.__setitem__,
    torch.utils.swap_tensors,
    torch._has_compatible_shallow_copy_type,
}
# RNN kernels take lengths / batch sizes as CPU int64 tensors, on a GPU too.
_CPU_LENGTHS_OK = {
    "_pack_padded_sequence",
    "_pad_packed_sequence",
    "lstm",
    "gru",
    "rnn_tanh",
    "rnn_relu",
}
# (data, lengths) results: the data on the GPU, the lengths on the CPU.
_LENGTHS_RESULT = {"_pack_padded_sequence", "_pad_packed_sequence"}
# Calls whose results are Python values or stay on the CPU.
_RESULT_ON_HOST = {torch.Tensor.tolist, torch.Tensor.item}
_FACTORY_NAMES = {
    "arange",
    "as_tensor",
    "empty",
    "empty_like",
    "eye",
    "full",
    "full_like",
    "linspace",
    "logspace",
    "ones",
    "ones_like",
    "rand",
    "rand_like",
    "randint",
    "randint_like",
    "randn",
    "randn_like",
    "randperm",
    "tensor",
    "zeros",
    "zeros_like",
}
_NUMPY_CALLS = {torch.Tensor.numpy, torch.Tensor.__array__}
# Answered as for an ordinary tensor: formatting checks ``type(self) is Tensor``,
# and torch.save stores the data as an ordinary (CPU) tensor.
_AS_PLAIN_TENSOR = {torch.Tensor.__format__, torch.Tensor.__reduce_ex__}
# Property getters arrive as method-wrappers: compare them with ==, not is.
_DEVICE_GET = torch.Tensor.device.__get__
_IS_CUDA_GET = torch.Tensor.is_cuda.__get__
_IS_MPS_GET = torch.Tensor.is_mps.__get__


class FakeGpuMode(TorchFunctionMode):
    """Applies a GPU's device rules to FakeGpuTensors; see the module docstring."""

    def __init__(self, kind: str = "cuda"):
        super().__init__()
        if kind not in KINDS:
            raise ValueError(f"unknown GPU kind {kind!r}; choose one of: {KINDS}")
        self.kind, self.device, self.tag = kind, torch.device(kind, 0), f"[fake {kind}]"

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        special = self._special(func, args, kwargs)
        if special is not NotImplemented:
            return special
        if "device" in kwargs and _name(func) in _FACTORY_NAMES:
            return self._factory(func, args, kwargs)
        tensors = [*_tensors(args), *_tensors(kwargs)]
        on_gpu = any(_on_gpu(t) for t in tensors)
        if on_gpu and func not in _MIXING_ALLOWED:
            self._check_same_device(func, tensors)
        result = func(*args, **kwargs)
        if not on_gpu or func in _RESULT_ON_HOST:
            return result
        if _name(func) in _LENGTHS_RESULT:
            data, lengths = result
            return self.mark(data), lengths
        return self.mark(result)

    def _special(self, func, args, kwargs):
        """Calls with their own rule, or NotImplemented for the general one."""
        gpu_self = bool(args) and _on_gpu(args[0])
        if func in _NUMPY_CALLS and gpu_self:
            raise TypeError(
                f"{self.tag} can't convert {self.device} device type tensor to "
                "numpy. Use Tensor.cpu() to copy the tensor to host memory first."
            )
        if func == _DEVICE_GET and gpu_self:
            return self.device
        if func == _IS_CUDA_GET and gpu_self:
            return self.kind == "cuda"
        if func == _IS_MPS_GET and gpu_self:
            return self.kind == "mps"
        if func is torch.Tensor.to:
            return self._to(args, kwargs)
        if func is torch.Tensor.cuda and self.kind == "cuda":
            return self._to((args[0], self.device), {})
        if func is torch.Tensor.cpu:
            return self._to((args[0], CPU), {})
        if func is torch.Tensor.pin_memory:
            return args[0].clone()  # pinning needs a real GPU; the data is the same
        if func is torch.Tensor.is_pinned:
            return False
        if func is torch.Tensor.__deepcopy__ and gpu_self:
            return self._deepcopy(args[0], args[1])
        if func in _AS_PLAIN_TENSOR and gpu_self:
            return func(_plain(args[0]), *args[1:], **kwargs)
        return NotImplemented

    def _check_same_device(self, func, tensors) -> None:
        lengths_ok = _name(func) in _CPU_LENGTHS_OK
        for t in tensors:
            if _on_gpu(t) or t.dim() == 0:
                continue
            if lengths_ok and t.dtype == torch.int64 and t.dim() == 1:
                continue
            raise RuntimeError(
                f"{self.tag} Expected all tensors to be on the same device, but "
                f"found at least two devices, {self.device} and cpu! ({_name(func)} "
                f"got a CPU tensor of shape {tuple(t.shape)}: move it with "
                ".to(device))"
            )

    def mark(self, value):
        """Every plain tensor in ``value`` as a FakeGpuTensor (same storage)."""
        if isinstance(value, torch.Tensor):
            if _on_gpu(value):
                return value
            if self.kind == "mps" and value.dtype == torch.float64:
                raise TypeError(
                    f"{self.tag} Cannot convert a MPS Tensor to float64 dtype as the "
                    "MPS framework doesn't support float64. Please use float32 "
                    "instead."
                )
            if value.is_leaf and value.requires_grad:  # zeros(..., requires_grad=)
                return torch.Tensor._make_subclass(FakeGpuTensor, value.detach(), True)
            return value.as_subclass(FakeGpuTensor)  # stays in the autograd graph
        if isinstance(value, list | tuple) and not hasattr(value, "_fields"):
            return type(value)(self.mark(item) for item in value)
        if isinstance(value, tuple):  # named tuples, e.g. torch.return_types.max
            return type(value)(*(self.mark(item) for item in value))
        if isinstance(value, dict):
            return {key: self.mark(item) for key, item in value.items()}
        return value

    def is_gpu(self, device) -> bool:
        return device is not None and device.type == self.kind

    def _cpu_args(self, args, kwargs):
        """The same call with the GPU replaced by the CPU wherever it is named."""

        def swap(value):
            return CPU if self.is_gpu(_as_device(value)) else value

        return tuple(swap(a) for a in args), {k: swap(v) for k, v in kwargs.items()}

    def _target_of_to(self, args, kwargs) -> torch.device | None:
        """The device a ``Tensor.to(...)`` call moves to; None: it stays."""
        if "device" in kwargs:
            return _as_device(kwargs["device"])
        for arg in args[1:]:
            if isinstance(arg, torch.Tensor):
                return self.device if _on_gpu(arg) else arg.device
            if isinstance(arg, int) and not isinstance(arg, bool):
                return torch.device(self.kind, arg)  # .to(0): GPU number 0
            device = _as_device(arg)
            if device is not None:
                return device
        return None

    def _to(self, args, kwargs):
        source = args[0]
        target = self._target_of_to(args, kwargs)
        if target is None:  # a dtype change only: the tensor stays where it is
            result = torch.Tensor.to(*args, **kwargs)
            return self.mark(result) if _on_gpu(source) else result
        cpu_args, cpu_kwargs = self._cpu_args(args, kwargs)
        plain = _plain(source)
        result = torch.Tensor.to(plain, *cpu_args[1:], **cpu_kwargs)
        if result is plain:  # nothing to convert
            if _on_gpu(source) == self.is_gpu(target):
                return source  # already there: .to returns the tensor itself
            result = plain.clone()  # a move between devices always copies
        return self.mark(result) if self.is_gpu(target) else result

    def _factory(self, func, args, kwargs):
        device = _as_device(kwargs["device"])
        generator = kwargs.get("generator")
        if self.is_gpu(device) and generator is not None:
            if generator.device.type != self.kind:
                raise RuntimeError(
                    f"{self.tag} Expected a '{self.kind}' device type for generator "
                    f"but found '{generator.device.type}' ({_name(func)} draws on "
                    "the GPU with a CPU torch.Generator: draw on the CPU, then move "
                    "the result)"
                )
        cpu_args, cpu_kwargs = self._cpu_args(args, kwargs)
        result = func(*[_plain(a) for a in cpu_args], **cpu_kwargs)
        return self.mark(result) if self.is_gpu(device) else result

    def _deepcopy(self, tensor: FakeGpuTensor, memo: dict) -> FakeGpuTensor:
        """copy.deepcopy of a GPU tensor or parameter (stays on the GPU)."""
        copied = tensor.detach().clone()  # an ordinary tensor (the mode is off here)
        result = torch.Tensor._make_subclass(
            FakeGpuTensor, copied, tensor.requires_grad
        )
        if getattr(tensor, "_is_param", False):
            result._is_param = True  # isinstance(result, nn.Parameter) holds
        memo[id(tensor)] = result
        return result


def _load(original, mode: FakeGpuMode, *args, map_location=None, **kwargs):
    """torch.load that accepts the GPU as map location (data lands on the GPU)."""
    device = None if callable(map_location) else _as_device(map_location)
    if not mode.is_gpu(device):
        return original(*args, map_location=map_location, **kwargs)
    return mode.mark(original(*args, map_location="cpu", **kwargs))


def _set_rng_state(original, new_state) -> None:
    """torch.set_rng_state takes the CPU generator's state as a CPU tensor only."""
    if isinstance(new_state, FakeGpuTensor):
        raise TypeError(
            f"[fake {new_state.device.type}] expected a CPU ByteTensor as the RNG "
            f"state, got one on {new_state.device}; move it with .cpu() first"
        )
    original(new_state)


def _runtime_patches(mode: FakeGpuMode) -> list:
    """What torch answers on a machine with one (simulated) GPU of this kind."""
    load = functools.partial(_load, torch.load, mode)
    patches = [
        mock.patch.object(torch, "load", load),
        mock.patch.object(
            torch,
            "set_rng_state",
            functools.partial(_set_rng_state, torch.set_rng_state),
        ),
    ]
    if mode.kind == "mps":
        mps, backend = torch.mps, torch.backends.mps
        return patches + [
            mock.patch.object(backend, "is_available", lambda: True),
            mock.patch.object(backend, "is_built", lambda: True),
            mock.patch.object(mps, "synchronize", lambda: None),
            mock.patch.object(mps, "empty_cache", lambda: None),
            mock.patch.object(mps, "manual_seed", lambda seed: None),
            # The simulated GPU draws from the CPU generator: that is its state.
            mock.patch.object(mps, "get_rng_state", lambda *a: torch.get_rng_state()),
            mock.patch.object(mps, "set_rng_state", lambda *a: None),
        ]
    cuda = torch.cuda
    return patches + [
        mock.patch.object(cuda, "is_available", lambda: True),
        mock.patch.object(cuda, "device_count", lambda: 1),
        mock.patch.object(cuda, "current_device", lambda: 0),
        mock.patch.object(cuda, "get_device_name", lambda *a: "fake cuda (CPU)"),
        mock.patch.object(cuda, "synchronize", lambda *a: None),
        mock.patch.object(cuda, "set_device", lambda device: None),
        mock.patch.object(cuda, "empty_cache", lambda: None),
        mock.patch.object(cuda, "get_device_capability", lambda *a: (9, 0)),
        mock.patch.object(cuda, "is_bf16_supported", lambda *a, **k: True),
        mock.patch.object(cuda, "get_rng_state_all", lambda: []),
        mock.patch.object(cuda, "set_rng_state_all", lambda states: None),
        mock.patch.object(cuda, "manual_seed", lambda seed: None),
        mock.patch.object(cuda, "manual_seed_all", lambda seed: None),
        # No cuDNN in a CPU build: RNNs take their generic path, silently.
        mock.patch.object(torch.backends.cudnn, "is_acceptable", lambda t: False),
    ]


@contextlib.contextmanager
def simulated_gpu(kind: str = "cuda"):
    """Within this block, ``torch.device(kind)`` is the simulated GPU."""
    mode = FakeGpuMode(kind)
    swap_before = torch.__future__.get_swap_module_params_on_conversion()
    # Module.to swaps each parameter for its moved copy, so parameters become
    # FakeGpuTensors and keep their identity (optimizers still hold them).
    torch.__future__.set_swap_module_params_on_conversion(True)
    try:
        with contextlib.ExitStack() as stack:
            for patch in _runtime_patches(mode):
                stack.enter_context(patch)
            stack.enter_context(mode)
            yield mode
    finally:
        torch.__future__.set_swap_module_params_on_conversion(swap_before)


_active: list = []


def enable(kind: str = "cuda") -> None:
    """Simulate one GPU of this kind for the rest of this process."""
    if _active:
        raise RuntimeError(f"a simulated {_active[0][0]} GPU is already on")
    stack = contextlib.ExitStack()
    stack.enter_context(simulated_gpu(kind))
    _active.append((kind, stack))
