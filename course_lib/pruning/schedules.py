"""Pruning schedules: how sparsity grows over rounds (Han et al.) or steps (Zhu & Gupta). Pure Python."""

from __future__ import annotations

from .._validation import check_fraction, check_int

__all__ = ["iterative_schedule", "gradual_sparsity"]


def iterative_schedule(final_sparsity, rounds) -> list[float]:
    """Sparsity after each round of iterative pruning, removing the same share of what is left.

    Parameters
    ----------
    final_sparsity : float in [0, 1)
    rounds : int >= 1

    Returns
    -------
    list of float
        ``rounds`` increasing values; the last is exactly ``final_sparsity``.

    Notes
    -----
    Each round removes the fraction ``p`` of the *remaining* weights, so after ``k``
    rounds ``(1 - p)^k`` of them are left; ``(1 - p)^n = 1 - s_f`` gives

    .. math:: s_k = 1 - (1 - s_f)^{k / n}, \\quad k = 1, \\dots, n.

    Early rounds remove many (redundant) weights, later rounds few (important) ones.

    References
    ----------
    .. [1] Han et al., NeurIPS 2015, sec. 3.3 (iterative pruning and retraining).

    Examples
    --------
    >>> [round(s, 3) for s in iterative_schedule(0.75, 2)]
    [0.5, 0.75]
    """
    final_sparsity = check_fraction("final_sparsity", final_sparsity, allow_one=False)
    rounds = check_int("rounds", rounds, minimum=1)
    schedule = [1.0 - (1.0 - final_sparsity) ** (k / rounds) for k in range(1, rounds + 1)]
    schedule[-1] = final_sparsity
    return schedule


def gradual_sparsity(step, *, final_sparsity, initial_sparsity=0.0, begin_step=0, end_step,
                     frequency=1) -> float:
    """Target sparsity at training step ``step`` of gradual (cubic) pruning.

    Parameters
    ----------
    step : int >= 0
    final_sparsity, initial_sparsity : float in [0, 1), keyword-only
        ``s_f`` and ``s_i`` (``s_i <= s_f``).
    begin_step, end_step : int, keyword-only
        ``t_0`` and ``t_0 + n Δt`` (``end_step > begin_step >= 0``).
    frequency : int >= 1, keyword-only
        ``Δt``: the sparsity is updated every ``frequency`` steps from ``begin_step``.

    Returns
    -------
    float

    Notes
    -----
    .. math:: s_t = s_f + (s_i - s_f)\\left(1 - \\frac{t - t_0}{n \\Delta t}\\right)^3

    where ``t`` is the last update step, ``t_0 + Δt \\lfloor (step - t_0) / Δt \\rfloor``.
    Before ``begin_step`` the value is ``s_i``; from ``end_step`` on it is ``s_f``
    (also when ``frequency`` does not divide ``end_step - begin_step``: the last update
    is at ``end_step``). Pruning is fast at first, when many weights are redundant,
    and slows down as the network has fewer left.

    References
    ----------
    .. [1] Zhu & Gupta, "To prune, or not to prune", 2017, eq. (1).
    """
    step = check_int("step", step, minimum=0)
    final_sparsity = check_fraction("final_sparsity", final_sparsity, allow_one=False)
    initial_sparsity = check_fraction("initial_sparsity", initial_sparsity, allow_one=False)
    if initial_sparsity > final_sparsity:
        raise ValueError(f"initial_sparsity == {initial_sparsity}, must be <= final_sparsity "
                         f"({final_sparsity}).")
    begin_step = check_int("begin_step", begin_step, minimum=0)
    end_step = check_int("end_step", end_step)
    if end_step <= begin_step:
        raise ValueError(f"end_step == {end_step}, must be > begin_step ({begin_step}).")
    frequency = check_int("frequency", frequency, minimum=1)
    if step < begin_step:
        return initial_sparsity
    if step >= end_step:
        return final_sparsity
    t = begin_step + frequency * ((step - begin_step) // frequency)
    progress = (t - begin_step) / (end_step - begin_step)
    # s_f + (s_i - s_f)(1 - p)^3, written so that p = 0 gives s_i exactly (no rounding)
    return initial_sparsity + (final_sparsity - initial_sparsity) * (1.0 - (1.0 - progress) ** 3)
