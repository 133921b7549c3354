"""The course's exercises, one module per chapter, registered by id when this package is imported.

Expected results are computed from real models and the library, so no answer is
stored as a literal. The ``*_case`` functions build a case ``run(answer) -> problems``
from its inputs; the instructors' hidden tests (``hidden_tests/``) call them with
inputs students never see. The bank imports the mechanism (:mod:`course_lib.exercises.core`),
never the reverse: :func:`course_lib.exercises.load_bank` is the one call that loads it.
"""

from . import flattened, intro, practice, pruning, quantization, summary, svd, tt  # noqa: F401  (importing registers the exercises)
from .flattened import cnn_layer_cost_case, flattened_cost_case, rank1_case, trained_rank1_case
from .intro import accuracy_case, mlp_case
from .practice import calibration_case, ste_case
from .pruning import EXAMPLE_C, EXAMPLE_W, cubic_case, mask_case, merge_case, rarely_case, storage_case
from .quantization import costs_case, matvec_case
from .summary import budget_case, pareto_case
from .svd import break_even_case, q3_case, rank_plan_case
from .tt import modes_case, trained_entry_case, tt_cost_case, tt_entry_case

__all__ = ["accuracy_case", "mlp_case", "EXAMPLE_C", "EXAMPLE_W", "cubic_case", "mask_case", "rarely_case",
           "matvec_case", "merge_case", "ste_case", "calibration_case", "storage_case", "costs_case",
           "rank_plan_case", "break_even_case", "q3_case", "rank1_case", "trained_rank1_case",
           "flattened_cost_case", "cnn_layer_cost_case", "tt_cost_case", "tt_entry_case", "trained_entry_case",
           "modes_case", "pareto_case", "budget_case"]
