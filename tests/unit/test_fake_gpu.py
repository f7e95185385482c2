"""The simulated GPU of ``make devcheck`` catches what a real GPU would reject."""

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from dlbook import checkpoint, fit, get_device, make_loaders, make_mlp
from tests.devcheck.fake_gpu import FakeGpuTensor, simulated_gpu


@pytest.fixture(params=["cuda", "mps"])
def gpu(request):
    with simulated_gpu(request.param):
        yield get_device(request.param)


def test_moved_tensors_report_the_gpu_and_cpu_copies_are_plain(gpu):
    x = torch.arange(6.0).reshape(2, 3)
    on_gpu = x.to(gpu)
    assert on_gpu.device == torch.device(gpu.type, 0)
    assert on_gpu.is_cuda == (gpu.type == "cuda") and on_gpu.is_mps == (
        gpu.type == "mps"
    )
    assert (on_gpu * 2).device.type == gpu.type
    assert on_gpu.to(gpu) is on_gpu and x.to("cpu") is x  # already there
    assert on_gpu.to(torch.float16).device.type == gpu.type
    assert torch.zeros(2, device=gpu).device.type == gpu.type
    assert torch.zeros_like(on_gpu, device="cpu").device.type == "cpu"
    back = on_gpu.cpu()
    assert type(back) is torch.Tensor and back.device.type == "cpu"
    on_gpu.add_(1)  # a move copies: the CPU original is untouched
    assert x[0, 0] == 0 and back[0, 0] == 0


def test_mixing_devices_raises_as_the_gpu_does(gpu):
    model = nn.Linear(3, 2).to(gpu)
    with pytest.raises(RuntimeError, match=r"\[fake .*same device"):
        model(torch.ones(4, 3))
    logits = model(torch.ones(4, 3, device=gpu))
    with pytest.raises(RuntimeError, match="same device"):
        nn.functional.cross_entropy(logits, torch.zeros(4, dtype=torch.long))
    with pytest.raises(RuntimeError, match="same device"):
        torch.cat([logits, torch.zeros(1, 2)])
    # What GPUs accept: 0-dim CPU tensors, CPU index tensors, copy_ from the CPU.
    assert (logits * torch.tensor(2.0)).device.type == gpu.type
    assert logits[torch.tensor([0, 1])].shape == (2, 2)
    logits.detach().copy_(torch.zeros(4, 2))


def test_numpy_needs_cpu_first(gpu):
    y = torch.ones(3, device=gpu)
    with pytest.raises(TypeError, match=r"Tensor\.cpu\(\)"):
        y.numpy()
    with pytest.raises(TypeError, match=r"Tensor\.cpu\(\)"):
        np.asarray(y)
    assert y.cpu().numpy().sum() == 3 and y.sum().item() == 3.0
    assert f"{y.sum():.1f}" == "3.0"


def test_cpu_generator_cannot_draw_on_the_gpu(gpu):
    g = torch.Generator().manual_seed(0)
    with pytest.raises(RuntimeError, match="generator"):
        torch.randn(3, generator=g, device=gpu)
    assert torch.randn(3, generator=g).to(gpu).device.type == gpu.type


def test_mps_has_no_float64():
    with simulated_gpu("mps"):
        with pytest.raises(TypeError, match="float64"):
            torch.zeros(2, dtype=torch.float64).to("mps")
        x = torch.zeros(2, device="mps")
        with pytest.raises(TypeError, match="float64"):
            x.double()
    with simulated_gpu("cuda"):
        assert torch.zeros(2, device="cuda").double().dtype == torch.float64


def test_module_to_keeps_parameters_so_optimizers_still_update_them(gpu):
    model = nn.Linear(3, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    before = [id(p) for p in model.parameters()]
    model.to(gpu)
    assert [id(p) for p in model.parameters()] == before
    for p in model.parameters():
        assert isinstance(p, FakeGpuTensor) and isinstance(p, nn.Parameter)
        assert p.device.type == gpu.type
    old = model.weight.detach().cpu().clone()
    model(torch.ones(2, 3, device=gpu)).sum().backward()
    optimizer.step()
    assert not torch.equal(model.weight.detach().cpu(), old)


def test_deepcopy_keeps_parameters_on_the_gpu(gpu):
    import copy

    model = nn.Linear(2, 1).to(gpu)
    twin = copy.deepcopy(model)
    assert isinstance(twin.weight, nn.Parameter) and twin.weight.is_leaf
    assert twin.weight.device.type == gpu.type
    assert twin.weight.data_ptr() != model.weight.data_ptr()
    best = copy.deepcopy(model.state_dict())
    assert best["weight"].device.type == gpu.type


def _train(device):
    torch.manual_seed(0)
    X, y = torch.randn(96, 8), torch.randint(0, 3, (96,))
    train, val = make_loaders((X, y), (X[:32], y[:32]), batch_size=16, seed=0)
    model = make_mlp(8, 16, 3)  # on the CPU: fit moves it
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    history = fit(
        model,
        train,
        val,
        nn.CrossEntropyLoss(),
        optimizer,
        3,
        device=device,
        progress=False,
    )
    return history, [p.detach().cpu() for p in model.parameters()]


@pytest.mark.parametrize("kind", ["cuda", "mps"])
def test_training_on_the_simulated_gpu_computes_the_same_numbers(kind):
    history_cpu, weights_cpu = _train(torch.device("cpu"))
    with simulated_gpu(kind):
        history_gpu, weights_gpu = _train(get_device(kind))
    assert history_gpu == history_cpu
    assert all(torch.equal(a, b) for a, b in zip(weights_cpu, weights_gpu, strict=True))


def test_leaf_tensors_made_on_the_gpu_collect_gradients(gpu):
    w = torch.zeros(3, device=gpu, requires_grad=True)
    v = (0.5 * torch.ones(3, device=gpu)).requires_grad_()
    (w * v).sum().backward()
    assert w.is_leaf and w.grad is not None and w.grad.device.type == gpu.type
    assert v.is_leaf and v.grad is not None


def test_packed_sequences_keep_their_lengths_on_the_cpu(gpu):
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    gru = nn.GRU(2, 3, batch_first=True).to(gpu)
    padded = torch.randn(2, 4, 2, device=gpu)
    packed = pack_padded_sequence(padded, torch.tensor([4, 2]), batch_first=True)
    out, h = gru(packed)
    assert h.device.type == gpu.type
    unpacked, lengths = pad_packed_sequence(out, batch_first=True)
    assert unpacked.device.type == gpu.type and lengths.device.type == "cpu"
    with pytest.raises(RuntimeError, match="same device"):
        gru(padded, torch.zeros(1, 2, 3))  # a hidden state left on the CPU


def test_checkpoints_round_trip_with_the_gpu_as_map_location(gpu, tmp_path):
    model = nn.Linear(2, 1).to(gpu)
    optimizer = torch.optim.Adam(model.parameters())
    model(torch.ones(1, 2, device=gpu)).sum().backward()
    optimizer.step()
    path = checkpoint.save_checkpoint(tmp_path / "c.pt", model, optimizer, epoch=1)
    restored = nn.Linear(2, 1).to(gpu)
    checkpoint.load_checkpoint(path, restored, map_location=gpu)
    assert torch.equal(restored.weight.cpu(), model.weight.cpu())
    state = torch.load(path, weights_only=True, map_location=gpu)
    assert state["model"]["weight"].device.type == gpu.type


def test_fit_moves_optimizer_state_restored_on_the_cpu(gpu, tmp_path):
    # Resume from a checkpoint into a model and Adam built on the CPU, then
    # train on the GPU: Adam's averages must follow the parameters.
    X, y = torch.randn(16, 2), torch.randint(0, 2, (16,))
    model = nn.Linear(2, 2)
    optimizer = torch.optim.Adam(model.parameters())
    loss_fn = nn.CrossEntropyLoss()
    fit(model, [(X, y)], None, loss_fn, optimizer, 1, device="cpu", progress=False)
    path = checkpoint.save_checkpoint(tmp_path / "c.pt", model, optimizer, epoch=1)
    model, optimizer = nn.Linear(2, 2), None
    optimizer = torch.optim.Adam(model.parameters())
    checkpoint.load_checkpoint(path, model, optimizer)  # state on the CPU
    fit(model, [(X, y)], None, loss_fn, optimizer, 1, device=gpu, progress=False)
    state = optimizer.state[model.weight]
    assert state["exp_avg"].device.type == gpu.type
    assert state["step"].device.type == "cpu"  # where PyTorch keeps it


def test_leaving_the_block_restores_the_cpu_build():
    swap = torch.__future__.get_swap_module_params_on_conversion()
    with simulated_gpu("cuda"):
        assert torch.cuda.is_available()
    with simulated_gpu("mps"):
        assert torch.backends.mps.is_available() and not torch.cuda.is_available()
    assert not torch.cuda.is_available() and not torch.backends.mps.is_available()
    assert torch.__future__.get_swap_module_params_on_conversion() == swap
    with pytest.raises(RuntimeError):
        get_device("cuda")


def test_unknown_kind_names_the_choices():
    with pytest.raises(ValueError, match="'tpu'.*cuda.*mps"):
        with simulated_gpu("tpu"):
            pass


def test_the_devcheck_kernel_runs_notebooks_on_the_simulated_gpu(monkeypatch, tmp_path):
    """The kernel `make devcheck` uses: the GPU is there, and a device bug fails."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    root = Path(__file__).resolve().parents[2]
    monkeypatch.setenv("JUPYTER_PATH", str(root / "tests" / "devcheck"))
    monkeypatch.setenv("PYTHONPATH", str(root))
    monkeypatch.setenv("DLBOOK_DEVICE", "cuda")
    cells = [
        "import torch\nfrom dlbook import get_device\ndevice = get_device()\n"
        "model = torch.nn.Linear(3, 1).to(device)\n"
        "print(device, torch.cuda.is_available(), model.weight.device)",
        "model(torch.ones(2, 3))  # the batch was never moved",
    ]
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(source) for source in cells]
    )
    client = NotebookClient(
        notebook,
        kernel_name="python3-fake-gpu",
        timeout=120,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    with pytest.raises(CellExecutionError, match=r"\[fake cuda\].*same device"):
        client.execute()
    assert notebook.cells[0].outputs[0]["text"] == "cuda True cuda:0\n"


def test_enable_twice_says_a_gpu_is_already_simulated():
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    code = (
        "from tests.devcheck import fake_gpu\n"
        "fake_gpu.enable('mps')\n"
        "fake_gpu.enable('cuda')\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True
    )
    assert run.returncode != 0
    assert "RuntimeError: a simulated mps GPU is already on" in run.stderr
