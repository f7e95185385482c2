"""The simulated GPU of ``make devcheck`` catches what a real GPU would reject."""

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from dlbook import checkpoint, fit, get_device, make_loaders, make_mlp
from tests.devcheck.fake_cuda import FakeCudaTensor, simulated_cuda


@pytest.fixture
def cuda():
    with simulated_cuda():
        yield get_device("cuda")


def test_moved_tensors_report_cuda_and_cpu_copies_are_plain(cuda):
    x = torch.arange(6.0).reshape(2, 3)
    on_gpu = x.to(cuda)
    assert on_gpu.device == torch.device("cuda", 0) and on_gpu.is_cuda
    assert (on_gpu * 2).device.type == "cuda"
    assert on_gpu.to(cuda) is on_gpu and x.to("cpu") is x  # already there
    assert on_gpu.to(torch.float64).device.type == "cuda"
    assert torch.zeros(2, device=cuda).device.type == "cuda"
    assert torch.zeros_like(on_gpu, device="cpu").device.type == "cpu"
    back = on_gpu.cpu()
    assert type(back) is torch.Tensor and back.device.type == "cpu"
    on_gpu.add_(1)  # a move copies: the CPU original is untouched
    assert x[0, 0] == 0 and back[0, 0] == 0


def test_mixing_devices_raises_as_cuda_does(cuda):
    model = nn.Linear(3, 2).to(cuda)
    with pytest.raises(RuntimeError, match=r"\[fake cuda\].*same device"):
        model(torch.ones(4, 3))
    logits = model(torch.ones(4, 3, device=cuda))
    with pytest.raises(RuntimeError, match="same device"):
        nn.functional.cross_entropy(logits, torch.zeros(4, dtype=torch.long))
    # What CUDA accepts: 0-dim CPU tensors, CPU index tensors, copy_ from the CPU.
    assert (logits * torch.tensor(2.0)).device.type == "cuda"
    assert logits[torch.tensor([0, 1])].shape == (2, 2)
    logits.detach().copy_(torch.zeros(4, 2))


def test_numpy_needs_cpu_first(cuda):
    y = torch.ones(3, device=cuda)
    with pytest.raises(TypeError, match="cpu"):
        y.numpy()
    with pytest.raises(TypeError, match="cpu"):
        np.asarray(y)
    assert y.cpu().numpy().sum() == 3 and y.sum().item() == 3.0


def test_cpu_generator_cannot_draw_on_cuda(cuda):
    gen = torch.Generator().manual_seed(0)
    with pytest.raises(RuntimeError, match="generator"):
        torch.randn(3, generator=gen, device=cuda)
    assert torch.randn(3, generator=gen).to(cuda).device.type == "cuda"


def test_module_to_keeps_parameters_so_optimizers_still_update_them(cuda):
    model = nn.Linear(3, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    before = [id(p) for p in model.parameters()]
    model.to(cuda)
    assert [id(p) for p in model.parameters()] == before
    assert all(isinstance(p, FakeCudaTensor | nn.Parameter) for p in model.parameters())
    assert all(p.device.type == "cuda" for p in model.parameters())
    old = model.weight.detach().cpu().clone()
    model(torch.ones(2, 3, device=cuda)).sum().backward()
    optimizer.step()
    assert not torch.equal(model.weight.detach().cpu(), old)


def _train(device):
    torch.manual_seed(0)
    X, y = torch.randn(96, 8), torch.randint(0, 3, (96,))
    train, val = make_loaders((X, y), (X[:32], y[:32]), batch_size=16, seed=0)
    model = make_mlp(8, 16, 3).to(device)
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


def test_training_on_the_simulated_gpu_computes_the_same_numbers():
    history_cpu, weights_cpu = _train(torch.device("cpu"))
    with simulated_cuda():
        history_gpu, weights_gpu = _train(get_device("cuda"))
    assert history_gpu == history_cpu
    assert all(torch.equal(a, b) for a, b in zip(weights_cpu, weights_gpu, strict=True))


def test_a_batch_left_on_the_cpu_is_caught(cuda):
    model = make_mlp(4, 8, 2).to(cuda)
    X = torch.randn(8, 4)
    with pytest.raises(RuntimeError, match="same device"):
        model(X)  # the bug: the batch was never moved


def test_checkpoints_round_trip_and_map_location_cuda(cuda, tmp_path):
    model = nn.Linear(2, 1).to(cuda)
    optimizer = torch.optim.Adam(model.parameters())
    model(torch.ones(1, 2, device=cuda)).sum().backward()
    optimizer.step()
    path = checkpoint.save_checkpoint(tmp_path / "c.pt", model, optimizer, epoch=1)
    restored = nn.Linear(2, 1).to(cuda)
    checkpoint.load_checkpoint(path, restored, map_location=cuda)
    assert torch.equal(restored.weight.cpu(), model.weight.cpu())
    state = torch.load(path, weights_only=True, map_location=cuda)
    assert state["model"]["weight"].device.type == "cuda"


def test_leaving_the_block_restores_the_cpu_build():
    swap = torch.__future__.get_swap_module_params_on_conversion()
    with simulated_cuda():
        assert torch.cuda.is_available()
    assert not torch.cuda.is_available()
    assert torch.__future__.get_swap_module_params_on_conversion() == swap
    with pytest.raises(RuntimeError):
        get_device("cuda")


def test_leaf_tensors_made_on_cuda_collect_gradients(cuda):
    w = torch.zeros(3, device=cuda, requires_grad=True)
    v = (0.5 * torch.ones(3, device=cuda)).requires_grad_()
    (w * v).sum().backward()
    assert w.is_leaf and w.grad is not None and w.grad.device.type == "cuda"
    assert v.is_leaf and v.grad is not None


def test_packed_sequences_keep_their_lengths_on_the_cpu(cuda):
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    gru = nn.GRU(2, 3, batch_first=True).to(cuda)
    padded = torch.randn(2, 4, 2, device=cuda)
    packed = pack_padded_sequence(padded, torch.tensor([4, 2]), batch_first=True)
    out, h = gru(packed)
    assert h.device.type == "cuda"
    unpacked, lengths = pad_packed_sequence(out, batch_first=True)
    assert unpacked.device.type == "cuda" and lengths.device.type == "cpu"
    with pytest.raises(RuntimeError, match="same device"):
        gru(padded, torch.zeros(1, 2, 3))  # a hidden state left on the CPU


def test_the_devcheck_kernel_runs_notebooks_on_the_simulated_gpu(monkeypatch, tmp_path):
    """The kernel `make devcheck` uses: CUDA is there, and a device bug fails."""
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
        kernel_name="python3-fake-cuda",
        timeout=120,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    with pytest.raises(CellExecutionError, match=r"\[fake cuda\].*same device"):
        client.execute()
    assert notebook.cells[0].outputs[0]["text"] == "cuda True cuda:0\n"
