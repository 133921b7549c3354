"""Chapter 09's instructor-only bank: the grader's verdicts and hidden cases (never released).

Runs only in the grader's process (:func:`course_lib.grading.course.course_cases`), each file of
``hidden_tests/`` in its own namespace: a graded kernel receives the cases' *inputs* only, never this
text, a reference solution or an expected value. See ``hidden_tests/README.md``.
"""

from course_lib.exercises import add_cases
from course_lib.exercises.bank.summary import budget_case, pareto_case, pruning_table, random_table

add_cases("09-pareto-front",
          ("hidden: 30 configurations, 4 levels", pareto_case(lambda: random_table(91, 30, levels=4),
                                                               "30 configurations")),
          ("hidden: LeNet-300-100 pruned at 5 other sparsities",
           pareto_case(lambda: pruning_table((0.3, 0.6, 0.85, 0.93, 0.99)), "pruned LeNet-300-100")))
add_cases("09-best-under-budget",
          ("hidden: a budget equal to a cost", budget_case(lambda: random_table(92, 15), 4000.0, "15 configurations")),
          ("hidden: LeNet-300-100 pruned, 100 kB",
           budget_case(lambda: pruning_table((0.3, 0.6, 0.85, 0.93, 0.99)), 100_000.0, "pruned LeNet-300-100")))
