"""The course's summary (notebook 09): every technique on the same models, measured, and the seed's ИТОГ checked.

* :mod:`.pareto` -- NumPy: the Pareto front of an (accuracy, cost) table and the most accurate
  configuration under a budget;
* :mod:`.claims` -- the seed's summary slide as claims and the verdict each measurement gives;
* :mod:`.decisions` -- the "which technique when" table derived from a measured table;
* :mod:`.code_size` -- lines of code a technique needs (a proxy for "harder to implement");
* :mod:`.nn` -- PyTorch: every technique and combination built from the library's own converters
  (pruning of weights, neurons and the CNN's channels; quantization, simulated and on the int8 runtime; SVD,
  flattened convolutions, TT) and measured (accuracy, bytes, latency; the CNN's multiply-adds).
"""

from .._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    exports={"pareto": ["pareto_front", "best_under_budget", "check_table"],
             "claims": ["SEED_CLAIMS", "VERDICTS", "claims_table", "EVIDENCE_KEYS", "OPTIONAL_KEYS", "speed_word",
                        "Timings"],
             "code_size": ["code_lines"],
             "decisions": ["CONSTRAINTS", "decision_table", "check_rows", "row_timing", "KEEP_BASELINE"]},
    submodules=["pareto", "claims", "decisions", "code_size", "nn"],
)
