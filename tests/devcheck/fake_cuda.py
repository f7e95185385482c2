"""A CUDA device simulated on the CPU, to find code that assumes the CPU.

On a real GPU, a tensor that was never moved meets one that was and PyTorch stops
with "Expected all tensors to be on the same device"; ``.numpy()`` on a GPU tensor
stops too. On a CPU-only machine every tensor is on the CPU, so those bugs hide.
``enable()`` makes ``torch.device("cuda")`` usable on a CPU build of PyTorch: the
data stays in host memory, but every tensor created on or moved to "cuda" becomes a
``FakeCudaTensor`` that reports ``device='cuda:0'``, and a torch-function mode
enforces the rules a real GPU enforces:

- an operation mixing fake-CUDA tensors with CPU tensors (other than 0-dim ones,
  index tensors and ``copy_`` sources, which CUDA accepts) raises;
- ``.numpy()`` / ``np.asarray`` on a fake-CUDA tensor raises;
- a CPU ``torch.Generator`` used to draw numbers on "cuda" raises;
- ``.cpu()`` and ``.to("cpu")`` copy back to an ordinary tensor.

It is a test tool (``make devcheck``), not a GPU: numbers are computed on the CPU
and nothing about speed or CUDA kernels is simulated. Error messages start with
"[fake cuda]" so that a failure is never mistaken for a real CUDA one.
"""

from __future__ import annotations

import contextlib
import functools
from unittest import mock

import torch
from torch.overrides import TorchFunctionMode

__all__ = ["FakeCudaTensor", "FakeCudaMode", "enable", "simulated_cuda"]

CUDA = torch.device("cuda", 0)
CPU = torch.device("cpu")


class FakeCudaTensor(torch.Tensor):
    """A CPU tensor marked as living on the simulated GPU."""

    # Every operation goes through FakeCudaMode; the subclass itself adds nothing.
    __torch_function__ = torch._C._disabled_torch_function_impl


def _on_fake(t) -> bool:
    return isinstance(t, FakeCudaTensor)


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


def _mark(value):
    """Every plain tensor in ``value`` as a FakeCudaTensor (same storage)."""
    if isinstance(value, torch.Tensor):
        if _on_fake(value):
            return value
        if value.is_leaf and value.requires_grad:  # zeros(..., requires_grad=True)
            return torch.Tensor._make_subclass(FakeCudaTensor, value.detach(), True)
        return value.as_subclass(FakeCudaTensor)  # stays in the autograd graph
    if isinstance(value, list | tuple) and not hasattr(value, "_fields"):
        return type(value)(_mark(item) for item in value)
    if isinstance(value, tuple):  # named tuples, e.g. torch.return_types.max
        return type(value)(*(_mark(item) for item in value))
    if isinstance(value, dict):
        return {key: _mark(item) for key, item in value.items()}
    return value


def _unmark(t):
    return t.as_subclass(torch.Tensor) if _on_fake(t) else t


def _as_device(value) -> torch.device | None:
    if isinstance(value, torch.device):
        return value
    if isinstance(value, str):
        try:
            return torch.device(value)
        except RuntimeError:  # some other string argument
            return None
    return None


def _is_cuda(device) -> bool:
    return device is not None and device.type == "cuda"


def _target_of_to(args, kwargs) -> torch.device | None:
    """The device a ``Tensor.to(...)`` call moves to, or None for "stay"."""
    if "device" in kwargs:
        return _as_device(kwargs["device"])
    for arg in args[1:]:
        if isinstance(arg, torch.Tensor):
            return CUDA if _on_fake(arg) else arg.device
        if isinstance(arg, int) and not isinstance(arg, bool):
            return torch.device("cuda", arg)  # .to(0) means CUDA device 0
        device = _as_device(arg)
        if device is not None:
            return device
    return None


def _cpu_device_args(args, kwargs):
    """The same call with every CUDA device replaced by the CPU."""

    def swap(value):
        return CPU if _is_cuda(_as_device(value)) else value

    return tuple(swap(a) for a in args), {k: swap(v) for k, v in kwargs.items()}


def _mismatch(func, bad) -> RuntimeError:
    name = getattr(func, "__name__", repr(func))
    return RuntimeError(
        "[fake cuda] Expected all tensors to be on the same device, but found at "
        f"least two devices, cuda:0 and cpu! ({name} got a CPU tensor of shape "
        f"{tuple(bad.shape)}: move it with .to(device))"
    )


# Calls that accept CPU tensors beside CUDA ones, as CUDA does.
_MIXING_ALLOWED = {
    torch.Tensor.copy_,
    torch.Tensor.set_,
    torch.Tensor.to,
    torch.Tensor.new_tensor,
    torch.Tensor.__getitem__,
    torch.Tensor.__setitem__,
    torch.Tensor.__deepcopy__,
    torch.Tensor.__reduce_ex__,
    torch.Tensor.__setstate__,
    torch.utils.swap_tensors,
    torch._has_compatible_shallow_copy_type,
}
# RNN kernels take their lengths / batch sizes as CPU int64 tensors, on CUDA too.
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
# Calls whose tensor results stay on the CPU even when an input is on the GPU.
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
# Calls answered as for an ordinary tensor: formatting checks ``type(self) is
# Tensor``, and torch.save stores the data as an ordinary (CPU) tensor.
_AS_PLAIN_TENSOR = {torch.Tensor.__format__, torch.Tensor.__reduce_ex__}
# Property getters arrive as method-wrappers: compare them with ==, not is.
_DEVICE_GET = torch.Tensor.device.__get__
_IS_CUDA_GET = torch.Tensor.is_cuda.__get__


class FakeCudaMode(TorchFunctionMode):
    """Applies CUDA's device rules to FakeCudaTensors; see the module docstring."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in _NUMPY_CALLS and _on_fake(args[0]):
            raise TypeError(
                "[fake cuda] can't convert cuda:0 device type tensor to numpy. Use "
                "Tensor.cpu() to copy the tensor to host memory first."
            )
        if func == _DEVICE_GET and _on_fake(args[0]):
            return CUDA
        if func == _IS_CUDA_GET and _on_fake(args[0]):
            return True
        if func is torch.Tensor.to:
            return self._to(func, args, kwargs)
        if func is torch.Tensor.cuda:
            return self._to(torch.Tensor.to, (args[0], CUDA), {})
        if func is torch.Tensor.cpu:
            return self._to(torch.Tensor.to, (args[0], CPU), {})
        if func is torch.Tensor.pin_memory:
            return args[0].clone()  # pinning needs a real GPU; the data is the same
        if func is torch.Tensor.is_pinned:
            return False
        if func is torch.Tensor.__deepcopy__ and _on_fake(args[0]):
            return _deepcopy(args[0], args[1])
        if func in _AS_PLAIN_TENSOR and _on_fake(args[0]):
            return func(_unmark(args[0]), *args[1:], **kwargs)
        device = _as_device(kwargs.get("device"))
        if "device" in kwargs and getattr(func, "__name__", "") in _FACTORY_NAMES:
            return self._factory(func, device, args, kwargs)
        tensors = [*_tensors(args), *_tensors(kwargs)]
        on_gpu = any(_on_fake(t) for t in tensors)
        if on_gpu and func not in _MIXING_ALLOWED:
            lengths_ok = getattr(func, "__name__", "") in _CPU_LENGTHS_OK
            for t in tensors:
                if _on_fake(t) or t.dim() == 0:
                    continue
                if not (lengths_ok and t.dtype == torch.int64 and t.dim() == 1):
                    raise _mismatch(func, t)
        result = func(*args, **kwargs)
        if not on_gpu or func in _RESULT_ON_HOST:
            return result
        if getattr(func, "__name__", "") in _LENGTHS_RESULT:
            data, lengths = result
            return _mark(data), lengths
        return _mark(result)

    def _to(self, func, args, kwargs):
        source = args[0]
        target = _target_of_to(args, kwargs)
        if target is None:  # a dtype change only: the tensor stays where it is
            result = func(*args, **kwargs)
            return _mark(result) if _on_fake(source) else result
        cpu_args, cpu_kwargs = _cpu_device_args(args, kwargs)
        plain = _unmark(source)
        result = func(plain, *cpu_args[1:], **cpu_kwargs)
        if result is plain:  # nothing to convert
            if _on_fake(source) == _is_cuda(target):
                return source  # already there: .to returns the tensor itself
            result = plain.clone()  # a move between devices always copies
        return _mark(result) if _is_cuda(target) else result

    def _factory(self, func, device, args, kwargs):
        generator = kwargs.get("generator")
        if _is_cuda(device) and generator is not None and generator.device != CUDA:
            raise RuntimeError(
                "[fake cuda] Expected a 'cuda' device type for generator but found "
                f"'{generator.device.type}' ({func.__name__} draws on cuda with a CPU "
                "torch.Generator: draw on the CPU, then move the result)"
            )
        cpu_args, cpu_kwargs = _cpu_device_args(args, kwargs)
        result = func(*[_unmark(a) for a in cpu_args], **cpu_kwargs)
        return _mark(result) if _is_cuda(device) else result


def _deepcopy(tensor: FakeCudaTensor, memo: dict) -> FakeCudaTensor:
    """copy.deepcopy of a simulated GPU tensor or parameter (stays on the GPU)."""
    copied = tensor.detach().clone()  # an ordinary tensor (the mode is off here)
    result = torch.Tensor._make_subclass(FakeCudaTensor, copied, tensor.requires_grad)
    if getattr(tensor, "_is_param", False):
        result._is_param = True  # isinstance(result, nn.Parameter) holds
    memo[id(tensor)] = result
    return result


def _load(original, *args, map_location=None, **kwargs):
    """torch.load that accepts CUDA map locations (the data lands on fake CUDA)."""
    device = _as_device(map_location) if not callable(map_location) else None
    if not _is_cuda(device):
        return original(*args, map_location=map_location, **kwargs)
    return _mark(original(*args, map_location="cpu", **kwargs))


@contextlib.contextmanager
def _patched_cuda_runtime():
    """What torch.cuda answers on a machine with one (simulated) GPU."""
    cuda = torch.cuda
    patches = [
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
        mock.patch.object(torch, "load", functools.partial(_load, torch.load)),
    ]
    with contextlib.ExitStack() as stack:
        for patch in patches:
            stack.enter_context(patch)
        yield


@contextlib.contextmanager
def simulated_cuda():
    """Within this block, ``torch.device("cuda")`` is the simulated GPU."""
    swap_before = torch.__future__.get_swap_module_params_on_conversion()
    # Module.to swaps each parameter for its moved copy, so parameters become
    # FakeCudaTensors and keep their identity (optimizers still hold them).
    torch.__future__.set_swap_module_params_on_conversion(True)
    try:
        with _patched_cuda_runtime(), FakeCudaMode():
            yield
    finally:
        torch.__future__.set_swap_module_params_on_conversion(swap_before)


_active: list = []


def enable() -> None:
    """Simulate one CUDA GPU for the rest of this process (idempotent)."""
    if not _active:
        stack = contextlib.ExitStack()
        stack.enter_context(simulated_cuda())
        _active.append(stack)
