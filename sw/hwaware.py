"""The fine-tuning stage of hardware-aware training, shared by the LIF / hybrid trainer
(:func:`spinaps.sw.lif.fine_tune`) and the soft-LIF trainer (:mod:`spinaps.sw.softlif`).

After the task training, ``energy_epochs`` more epochs minimise

    L_task + energy_beta * penalty / penalty_0

where ``penalty`` is the energy estimate ``E_hat`` of :mod:`spinaps.sw.energy` (or, for the
``"l1"`` ablation, the spike count or rate sum of the trainable layers) and ``penalty_0`` its
value for the first stage's network on a fixed sample, so that ``energy_beta`` means the same
for every network. The learning rate decays by a cosine from ``energy_lr * lr`` to
``lr_final * lr`` (``lr_final`` defaults to 0 where a config has none).
"""

from __future__ import annotations

import torch
from tqdm.auto import tqdm

from .train import _lr_factor

__all__ = ["fine_tune_loop"]


def fine_tune_loop(model, config, n_train, generator, batch_terms, reference, *, desc, progress=True,
                   lr_final=0.0, weight_decay=0.0, before_epoch=None):
    """Run the stage; return ``(loss per epoch, mean penalty per epoch)``.

    ``batch_terms(idx)`` returns ``(task loss, penalty)`` of the training samples ``idx`` (the
    penalty is not computed, ``None``, when ``config.energy_beta`` is 0: then the stage is plain
    fine-tuning and the history holds ``None``). ``model.project_()`` runs after every step when
    the model has it; ``before_epoch()`` at the start of every epoch.
    """
    beta = config.energy_beta
    lr0 = config.lr * config.energy_lr
    optimizer = torch.optim.Adam(model.parameters(), lr=lr0, weight_decay=weight_decay)
    history, spent_history = [], []
    bar = tqdm(range(config.energy_epochs), desc=desc, unit="epoch", disable=not progress)
    for epoch in bar:
        if before_epoch is not None:
            before_epoch()
        for group in optimizer.param_groups:
            group["lr"] = config.lr * (lr_final + (config.energy_lr - lr_final)
                                       * _lr_factor(epoch, config.energy_epochs, 0.0))
        total, spent, count = 0.0, 0.0, 0
        for idx in torch.randperm(n_train, generator=generator).split(config.batch_size):
            task, penalty = batch_terms(idx, beta > 0)
            loss = task if penalty is None else task + beta * penalty / max(reference, 1e-12)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if hasattr(model, "project_"):
                model.project_()
            total += loss.item() * len(idx)
            spent += 0.0 if penalty is None else penalty.detach().item() * len(idx)
            count += len(idx)
        history.append(total / count)
        spent_history.append(spent / count if beta > 0 else None)
        bar.set_postfix(loss=f"{history[-1]:.3f}")
    return history, spent_history
