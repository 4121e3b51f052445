"""Adam with ``torch.optim.Adam``'s arithmetic, without ``torch.optim``'s import of ``torch._dynamo``.

Every ``torch.optim`` optimizer imports ``torch._dynamo`` (the compiler front end) the first time
one of its methods runs: 1.4 s of every fitting process on 2 CPU cores (``python -X importtime``;
more than a quick fit's iterations). The fits here need none of it, so the default optimizer is
this class: the update of ``torch.optim.Adam`` with its default options (no weight decay, no
AMSGrad, not capturable), operation for operation, so parameters are equal bit for bit
(``tests/test_adam.py``), and the same ``state_dict`` layout, so checkpoints written with either
load into the other. L-BFGS stays ``torch.optim.LBFGS``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeAlias

import torch

from ..errors import ArgumentValueError

__all__ = ["Adam", "Optimizer"]

#: The options of ``torch.optim.Adam`` this update implements (their defaults).
_DEFAULT_OPTIONS = {"weight_decay": 0, "amsgrad": False, "maximize": False}


class Adam:
    """Adam (Kingma & Ba 2015), the same update as ``torch.optim.Adam`` with its defaults.

    Parameters
    ----------
    params : iterable of torch.Tensor
        The parameters (leaf tensors with ``requires_grad``), any shapes.
    lr : float
        Learning rate.
    betas : tuple of float, optional
        Decay rates of the gradient's running mean and of its squares' running mean.
    eps : float, optional
        Added to the denominator.

    Attributes
    ----------
    state : dict of {int: dict of str to torch.Tensor}
        Per parameter index: ``step`` (a float32 scalar), ``exp_avg`` and ``exp_avg_sq`` (the
        parameter's shape), as ``torch.optim.Adam`` keeps them.

    Examples
    --------
    >>> import torch
    >>> from elephant_fit.fitting._adam import Adam
    >>> weight = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
    >>> optimizer = Adam([weight], lr=0.1)
    >>> (weight**2).sum().backward()
    >>> optimizer.step()
    >>> weight.detach()  # each entry moves by lr against its gradient's sign on the first step
    tensor([ 0.9000, -1.9000])
    """

    def __init__(
        self,
        params: Iterable[torch.Tensor],
        lr: float,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        self.params = list(params)
        self.lr, self.betas, self.eps = float(lr), (float(betas[0]), float(betas[1])), float(eps)
        self.state: dict[int, dict[str, torch.Tensor]] = {}

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients (``None``, or zeros with ``set_to_none=False``)."""
        for param in self.params:
            if param.grad is None:
                continue
            if set_to_none:
                param.grad = None
            else:
                param.grad.detach_().zero_()

    @torch.no_grad()
    def step(self) -> None:
        """One update of every parameter that has a gradient."""
        beta1, beta2 = self.betas
        for index, param in enumerate(self.params):
            if param.grad is None:
                continue
            state = self.state.get(index) or self._initial_state(index, param)
            state["step"] += 1
            step = state["step"].item()
            state["exp_avg"].lerp_(param.grad, 1 - beta1)
            state["exp_avg_sq"].mul_(beta2).addcmul_(param.grad, param.grad, value=1 - beta2)
            step_size = self.lr / (1 - beta1**step)
            denom = (state["exp_avg_sq"].sqrt() / (1 - beta2**step) ** 0.5).add_(self.eps)
            param.addcdiv_(state["exp_avg"], denom, value=-step_size)

    def _initial_state(self, index: int, param: torch.Tensor) -> dict[str, torch.Tensor]:
        """Zero moments and step count of a parameter's first update (``torch.optim.Adam``'s)."""
        self.state[index] = {
            "step": torch.tensor(0.0, dtype=torch.float32),
            "exp_avg": torch.zeros_like(param, memory_format=torch.preserve_format),
            "exp_avg_sq": torch.zeros_like(param, memory_format=torch.preserve_format),
        }
        return self.state[index]

    def state_dict(self) -> dict[str, Any]:
        """The state in ``torch.optim.Adam.state_dict``'s layout (references, not copies)."""
        group = {
            "lr": self.lr,
            "betas": self.betas,
            "eps": self.eps,
            **_DEFAULT_OPTIONS,
            "foreach": None,
            "capturable": False,
            "differentiable": False,
            "fused": None,
            "decoupled_weight_decay": False,
            "params": list(range(len(self.params))),
        }
        return {"state": {i: dict(s) for i, s in self.state.items()}, "param_groups": [group]}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Take a state written by :meth:`state_dict` or by ``torch.optim.Adam``.

        The moments are copied to each parameter's dtype and device; the step count stays a
        float32 scalar.

        Raises
        ------
        ArgumentValueError
            If the state is not one group of Adam for as many parameters with default options.
        """
        groups = state_dict.get("param_groups", [])
        if len(groups) != 1 or len(groups[0].get("params", [])) != len(self.params):
            raise ArgumentValueError(
                f"Expected an Adam state of one group of {len(self.params)} parameters, but got "
                f"groups of {[len(group.get('params', [])) for group in groups]}."
            )
        group = groups[0]
        options = {key: group.get(key) for key in _DEFAULT_OPTIONS}
        if any(options[key] not in (None, value) for key, value in _DEFAULT_OPTIONS.items()):
            raise ArgumentValueError(
                f"Expected an Adam state with the default options {_DEFAULT_OPTIONS}, but got "
                f"{options}."
            )
        ids = list(group["params"])
        self.lr, self.eps = float(group["lr"]), float(group["eps"])
        self.betas = (float(group["betas"][0]), float(group["betas"][1]))
        self.state = {}
        for saved_id, values in state_dict["state"].items():
            param = self.params[ids.index(saved_id)]
            self.state[ids.index(saved_id)] = {
                "step": values["step"].detach().clone().to(torch.float32),
                "exp_avg": values["exp_avg"].detach().to(param.device, param.dtype).clone(),
                "exp_avg_sq": values["exp_avg_sq"].detach().to(param.device, param.dtype).clone(),
            }


#: What the fitting loop steps: this Adam, or a ``torch.optim`` optimizer (L-BFGS).
Optimizer: TypeAlias = "Adam | torch.optim.Optimizer"
