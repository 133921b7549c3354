"""True/false statement exercises: the digest hides the answer, the case says what is wrong. No torch."""

from course_lib.exercises.statements import statements_case, statements_digest


def test_statement_case_accepts_only_the_right_set():
    run = statements_case("xx-demo", "ABCD", statements_digest("xx-demo", {"A", "C"}))
    assert run({"A", "C"}) == [] and run("ca") == [] and run(["c", " a "]) == []
    assert run({"A"}) == ["at least one statement is judged wrongly: re-read the notebook's measurements"]
    assert run({"Z"}) == ["answer contains ['Z']: the statements are A to D"]
    assert run(3) == ["answer is a int, expected a set of letters like {'A', 'C'}"]
    assert statements_digest("xx-demo", "AC") != statements_digest("yy-demo", "AC")  # salted by the exercise
