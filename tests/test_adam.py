"""`elephant_fit.fitting._adam`: torch.optim.Adam's update bit for bit, its state layout, no dynamo."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from elephant_fit.errors import ArgumentValueError
from elephant_fit.fitting._adam import Adam


def _parameters(dtype):
    generator = torch.Generator().manual_seed(0)
    shapes = [(3, 4), (5,), (2, 3, 2)]
    return [torch.nn.Parameter(torch.randn(s, generator=generator, dtype=dtype)) for s in shapes]


def _gradients(params, step):
    generator = torch.Generator().manual_seed(100 + step)
    return [torch.randn(p.shape, generator=generator, dtype=p.dtype) * 10**step for p in params]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_adam_equals_torch_adam_bit_for_bit(dtype):
    ours, theirs = _parameters(dtype), _parameters(dtype)
    mine, reference = Adam(ours, lr=0.03), torch.optim.Adam(theirs, lr=0.03)
    for step in range(25):
        for optimizer, params in ((mine, ours), (reference, theirs)):
            optimizer.zero_grad(set_to_none=True)
            grads = _gradients(params, step % 4)
            for k, (param, grad) in enumerate(zip(params, grads, strict=True)):
                if not (step == 3 and k == 1):  # a parameter without a gradient is left alone
                    param.grad = grad
            optimizer.step()
        for a, b in zip(ours, theirs, strict=True):
            assert torch.equal(a, b)
    assert mine.state_dict()["param_groups"] == reference.state_dict()["param_groups"]


def test_adam_state_round_trips_with_torch_adam():
    ours, theirs = _parameters(torch.float32), _parameters(torch.float32)
    mine, reference = Adam(ours, lr=0.01), torch.optim.Adam(theirs, lr=0.01)
    for optimizer, params in ((mine, ours), (reference, theirs)):
        for param, grad in zip(params, _gradients(params, 0), strict=True):
            param.grad = grad
        optimizer.step()
    resumed = Adam(_parameters(torch.float32), lr=0.5)
    resumed.load_state_dict(reference.state_dict())  # torch's state into ours
    assert resumed.lr == 0.01
    torch_again = torch.optim.Adam(_parameters(torch.float32), lr=0.5)
    torch_again.load_state_dict(mine.state_dict())  # ours into torch's
    saved = reference.state_dict()["state"]
    for index in range(3):
        for key in ("step", "exp_avg", "exp_avg_sq"):
            assert torch.equal(resumed.state[index][key], saved[index][key])
            assert torch.equal(
                torch_again.state[torch_again.param_groups[0]["params"][index]][key],
                mine.state[index][key],
            )


def test_adam_zero_grad_keeps_zeros_when_asked():
    params = _parameters(torch.float64)
    optimizer = Adam(params, lr=0.1)
    params[0].grad = torch.ones_like(params[0])
    optimizer.zero_grad(set_to_none=False)
    assert torch.equal(params[0].grad, torch.zeros_like(params[0]))
    assert params[1].grad is None
    optimizer.zero_grad()
    assert params[0].grad is None


def test_adam_refuses_a_state_of_other_parameters():
    optimizer = Adam(_parameters(torch.float32), lr=0.1)
    other = torch.optim.Adam(_parameters(torch.float32)[:2], lr=0.1)
    with pytest.raises(ArgumentValueError, match="one group of 3 parameters"):
        optimizer.load_state_dict(other.state_dict())
    amsgrad = torch.optim.Adam(_parameters(torch.float32), lr=0.1, amsgrad=True)
    with pytest.raises(ArgumentValueError, match="default options"):
        optimizer.load_state_dict(amsgrad.state_dict())


def test_a_fit_does_not_import_the_torch_compiler():
    code = (
        "import sys, torch, quantities as pq\n"
        "from elephant_fit import NetworkFitter, SpikeData\n"
        "counts = (torch.rand(12, 30, 4, generator=torch.Generator().manual_seed(0)) < 0.2).float()\n"
        "NetworkFitter(max_iterations=3, progress=False).fit(SpikeData(counts, 10 * pq.ms))\n"
        "print('torch._dynamo' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
